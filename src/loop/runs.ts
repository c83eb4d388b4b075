/**
 * What a run needs beyond the list call (docs/runs.md): when its container was made, started and
 * finished, whether it was OOM-killed and how often the engine restarted it — inspect's State.
 * Only containers of specs that run to completion are inspected: exited ones, and running ones
 * with an activeDeadline. A container that has settled (exited, and nothing will restart it) does
 * not change, so each is inspected once per state and exit code: a no-op pass costs no inspect.
 * The cache is only a cache: a restarted berth inspects again.
 */
import type { ObservedContainer, ObservedRun, ObservedState } from "../core/observed.js";
import type { LabelKeys } from "../core/labels.js";
import type { SpecRecord } from "../core/record.js";
import { runsToCompletion } from "../core/runs.js";
import type { DockerPort } from "../docker/port.js";

const RUNNING = new Set(["running", "restarting", "paused"]);

interface Seen {
  readonly key: string;
  readonly run: ObservedRun;
}

export class RunInspector {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly docker: DockerPort,
    private readonly keys: LabelKeys,
  ) {}

  /** The observation with `run` on every container of a run that needs it. */
  async attach(observed: ObservedState, records: ReadonlyMap<string, SpecRecord>): Promise<ObservedState> {
    const wanted = observed.containers.filter((c) => {
      const spec = records.get(c.labels[this.keys.spec] ?? "")?.spec;
      if (!spec || !runsToCompletion(spec)) return false;
      return c.state === "exited" || (RUNNING.has(c.state) && spec.activeDeadlineMs !== null);
    });
    for (const id of this.seen.keys()) if (!observed.containers.some((c) => c.id === id)) this.seen.delete(id);
    if (wanted.length === 0) return observed;
    const runs = new Map<string, ObservedRun>();
    await Promise.all(
      wanted.map(async (c) => {
        const run = await this.runOf(c);
        if (run) runs.set(c.id, run);
      }),
    );
    const containers = observed.containers.map((c): ObservedContainer => {
      const run = runs.get(c.id);
      return run ? { ...c, run } : c;
    });
    return { ...observed, containers };
  }

  private async runOf(c: ObservedContainer): Promise<ObservedRun | null> {
    const key = `${c.state}:${String(c.exitCode)}`;
    const seen = this.seen.get(c.id);
    // A running container's creation time never changes; an exited one changes only if restarted.
    if (seen?.key === key && (c.state !== "exited" || seen.run.settled)) return seen.run;
    const details = await this.docker.inspectContainer(c.id);
    if (!details?.run) return null;
    this.seen.set(c.id, { key, run: details.run });
    return details.run;
  }
}
