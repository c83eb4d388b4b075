/**
 * Claim records on disk (docs/pools.md): one small JSON file per claim, `<pool>.<claim>.json`, in
 * the hidden `.claims` folder of the runtime spec directory (the loader never reads hidden names),
 * written atomically (spec-writer.ts) before a claim is answered and removed only after its
 * container is gone. The files are the claims: nothing about a claim lives only in memory.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { isDnsLabel } from "../core/names.js";
import { type ClaimRecord, claimFileName, parseClaimRecord } from "../core/pool.js";
import { removeFile, type SpecFileFailure, writeFileAtomic } from "./spec-writer.js";

export const CLAIMS_FOLDER = ".claims";

export interface ClaimListing {
  readonly records: readonly ClaimRecord[];
  /** Files in the folder that are not claim records (torn, foreign): left alone, reported. */
  readonly unreadable: readonly string[];
}

export class ClaimFiles {
  readonly dir: string;

  constructor(runtimeSpecs: string) {
    this.dir = path.join(runtimeSpecs, CLAIMS_FOLDER);
  }

  private fileOf(pool: string, claim: string): string {
    if (!isDnsLabel(pool) || !isDnsLabel(claim)) throw new Error(`not a claim: ${pool}/${claim}`);
    return path.join(this.dir, claimFileName(pool, claim));
  }

  /** Every claim record; none when the folder does not exist yet. */
  async list(): Promise<ClaimListing> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { records: [], unreadable: [] };
      throw err;
    }
    const records: ClaimRecord[] = [];
    const unreadable: string[] = [];
    for (const name of names.sort()) {
      if (name.startsWith(".") || !name.endsWith(".json")) continue;
      const text = await readFile(path.join(this.dir, name), "utf8").catch(() => null);
      const record = text === null ? null : parseClaimRecord(text);
      if (record && name === claimFileName(record.pool, record.name)) records.push(record);
      else unreadable.push(name);
    }
    return { records, unreadable };
  }

  async write(record: ClaimRecord): Promise<{ readonly ok: true } | SpecFileFailure> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const written = await writeFileAtomic(this.dir, this.fileOf(record.pool, record.name), JSON.stringify(record));
    return written.ok ? { ok: true } : written;
  }

  async remove(
    pool: string,
    claim: string,
  ): Promise<{ readonly ok: true; readonly removed: boolean } | SpecFileFailure> {
    return removeFile(this.dir, this.fileOf(pool, claim));
  }
}
