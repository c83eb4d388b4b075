/**
 * What a run needs beyond the list call (docs/runs.md): when its container was made, started and
 * finished, whether it was OOM-killed and how often the engine restarted it — inspect's State.
 * Only containers of specs that run to completion are inspected: exited ones, and running ones
 * with an activeDeadline. A container that has settled (exited, and nothing will restart it) does
 * not change unless someone starts it, so each is inspected once per state and exit code: a no-op
 * pass costs no inspect. A start by hand that exits again with the same code looks the same in the
 * list, so an engine event about a container (`forget`) drops what was seen of it, and a reopened
 * events stream (events may have been missed) drops everything (`forgetAll`). The cache is only a
 * cache: a restarted berth inspects again.
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
  /** Containers the engine reported a change of since they were last inspected. */
  private readonly changed = new Set<string>();

  constructor(
    private readonly docker: DockerPort,
    private readonly keys: LabelKeys,
  ) {}

  /** The engine reported something about this container: inspect it again. */
  forget(containerId: string): void {
    this.changed.add(containerId);
  }

  /** Events may have been missed: inspect every container again. */
  forgetAll(): void {
    this.seen.clear();
    this.changed.clear();
  }

  /** The observation with `run` on every container of a run that needs it. */
  async attach(observed: ObservedState, records: ReadonlyMap<string, SpecRecord>): Promise<ObservedState> {
    const wanted = observed.containers.filter((c) => {
      const spec = records.get(c.labels[this.keys.spec] ?? "")?.spec;
      if (!spec || !runsToCompletion(spec)) return false;
      return c.state === "exited" || (RUNNING.has(c.state) && spec.activeDeadlineMs !== null);
    });
    const present = new Set(observed.containers.map((c) => c.id));
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
    for (const id of this.changed) if (!present.has(id)) this.changed.delete(id);
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
    const fresh = !this.changed.has(c.id) && (c.state !== "exited" || seen?.run.settled === true);
    if (seen?.key === key && fresh) return seen.run;
    // An event arriving while this inspect is in flight marks it changed again, for the next pass.
    this.changed.delete(c.id);
    const details = await this.docker.inspectContainer(c.id);
    if (!details?.run) return null;
    this.seen.set(c.id, { key, run: details.run });
    return details.run;
  }
}
