/**
 * The output of each spec's last build (docs/images.md, Builds), kept in the state folder as
 * `builds/<controller id>/<spec>.log` so that `berth logs --build SPEC` reads it whichever berth
 * (`run` or `apply`) built it, and after that process ended. Written once the build ends.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveStateDir } from "./lock.js";

export class BuildLogs {
  constructor(
    /** --state-dir, or null: the default place (host/lock.ts). */
    private readonly stateDir: string | null,
    private readonly controllerId: string,
  ) {}

  private async fileOf(spec: string): Promise<string> {
    return path.join(await resolveStateDir(this.stateDir), "builds", this.controllerId, `${spec}.log`);
  }

  /** Replaces the spec's build log (written aside, then renamed: a reader never sees half of one). */
  async save(spec: string, text: string): Promise<void> {
    const file = await this.fileOf(spec);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, file);
  }

  /** The spec's last build log, or null when berth has built nothing for it here. */
  async read(spec: string): Promise<string | null> {
    try {
      return await readFile(await this.fileOf(spec), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }
}
