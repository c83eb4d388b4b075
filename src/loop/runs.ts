/**
 * What a container's list entry does not say — inspect's State: when it was made, started and
 * finished, whether it was OOM-killed, how often the engine restarted it and how it last exited.
 * Inspected (docs/runs.md, docs/design.md "Restarts and crash loops"):
 * - containers of specs that run to completion: exited ones, and running ones with an
 *   activeDeadline (the run's outcome);
 * - any container the engine is restarting (waiting out its restart back-off), or that died since
 *   it was last inspected (a `die` event), and from then on every time the engine reports a change
 *   of it: its restarts and last exit (a crash loop). Started again, the engine says 0 for the
 *   last exit's code, so the code is the last `die` event's (or the last inspect's of the same
 *   exit); not known to a one-shot look at a container running again;
 * - every container of the specs a pass is asked to look closer at (`berth get`);
 * - every container of a spec with a stableFor while its rollout is under way (its containers of
 *   more than one version): a restarted one of the new version holds the rest (core/plan/rollout.ts);
 *   and of a spec whose updatePartition keeps replicas on the old version: its canaries' restarts
 *   and last start are in its status (GET /v1/specs), for whoever decides to promote them.
 * A container's inspect is kept until the engine reports a change of it (`forget`): a no-op pass
 * costs no inspect. An exited run that is not settled is inspected again every pass (something
 * may restart it). A reopened events stream (events may have been missed) trusts nothing cached:
 * every container inspected before is inspected again, and no exit code told by an event is kept
 * (`forgetAll`). The cache is only a cache: a restarted berth inspects again, so a container's
 * restarts are known from its next `die` (or at once while it is restarting), not at start.
 * A container inspected in a pass is observed with the inspect's state and exit code, not the
 * earlier list's: its state, restarts and last exit are then of one moment (`asInspected`).
 */
import type { ObservedContainer, ObservedRun, ObservedState } from "../core/observed.js";
import type { LabelKeys } from "../core/labels.js";
import type { SpecRecord } from "../core/record.js";
import { isRejectedName } from "../core/names.js";
import { midRollout } from "../core/plan/rollout.js";
import { deadlineMarkVolume, marksDeadlineStop, runsToCompletion } from "../core/runs.js";
import type { Ownership } from "../core/ownership.js";
import type { ContainerDetails, DockerPort } from "../docker/port.js";

const RUNNING = new Set(["running", "restarting", "paused"]);

interface Seen {
  readonly key: string;
  readonly run: ObservedRun;
}

export class RunInspector {
  private readonly seen = new Map<string, Seen>();
  /** Containers the engine reported a change of since they were last inspected. */
  private readonly changed = new Set<string>();
  /** Containers the engine reported dying since they were last inspected. */
  private readonly died = new Set<string>();
  /** The exit code of each container's last `die` event. */
  private readonly exitCodes = new Map<string, number>();

  private readonly keys: LabelKeys;

  constructor(
    private readonly docker: DockerPort,
    private readonly owner: Ownership,
  ) {
    this.keys = owner.keys;
  }

  /**
   * The engine reported something about this container (`died`: its process exited, with this
   * code when the event told it): inspect it again.
   */
  forget(containerId: string, died?: { readonly code: number | null }): void {
    this.changed.add(containerId);
    if (!died) return;
    this.died.add(containerId);
    if (died.code === null) this.exitCodes.delete(containerId);
    else this.exitCodes.set(containerId, died.code);
  }

  /** The code of the container's last exit as its `die` event told it; null: not told. */
  exitCodeOf(containerId: string): number | null {
    return this.exitCodes.get(containerId) ?? null;
  }

  /**
   * Events may have been missed: inspect again every container inspected before (kept in view, so
   * that a restart count stays known), and forget the exit codes events told (a missed `die` may
   * have told a newer one).
   */
  forgetAll(): void {
    for (const id of this.seen.keys()) this.changed.add(id);
    this.exitCodes.clear();
  }

  /**
   * The observation with `run` on every container that needs it; `closer`: the specs whose every
   * container is inspected.
   */
  async attach(
    observed: ObservedState,
    records: ReadonlyMap<string, SpecRecord>,
    closer: ReadonlySet<string> = NONE,
  ): Promise<ObservedState> {
    const specOf = (c: ObservedContainer) => records.get(c.labels[this.keys.spec] ?? "")?.spec ?? null;
    const completing = (c: ObservedContainer): boolean => {
      const spec = specOf(c);
      return spec !== null && runsToCompletion(spec);
    };
    const rolling = heldRollouts(observed.containers, records, this.keys);
    const wanted = observed.containers.filter((c) => {
      if (c.state === "restarting" || this.died.has(c.id) || this.seen.has(c.id)) return true;
      const name = c.labels[this.keys.spec] ?? "";
      if (closer.has(name) || rolling.has(name)) return true;
      const spec = specOf(c);
      if (spec === null || !runsToCompletion(spec)) return false;
      return c.state === "exited" || (RUNNING.has(c.state) && spec.activeDeadlineMs !== null);
    });
    const present = new Set(observed.containers.map((c) => c.id));
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
    for (const set of [this.changed, this.died]) for (const id of set) if (!present.has(id)) set.delete(id);
    for (const id of this.exitCodes.keys()) if (!present.has(id)) this.exitCodes.delete(id);
    if (wanted.length === 0) return observed;
    const inspected = new Map<string, ObservedContainer>();
    await Promise.all(
      wanted.map(async (c) => {
        const found = await this.inspected(c, completing(c));
        if (found) inspected.set(c.id, found);
      }),
    );
    const containers = observed.containers.map((c) => inspected.get(c.id) ?? c);
    return { ...observed, containers };
  }

  /**
   * An exited run with whether berth stopped it for its activeDeadline, from its deadline mark
   * (core/runs.ts): looked up once per exit (the run is cached with the answer), so that the
   * outcome does not hang on what the spec's deadline is later.
   */
  private async withDeadlineStop(run: ObservedRun, containerId: string, exited: boolean): Promise<ObservedRun> {
    if (!exited) return run;
    const mark = await this.docker.inspectVolume(deadlineMarkVolume(this.keys, this.owner.controllerId, containerId));
    return { ...run, stoppedForDeadline: marksDeadlineStop(mark, containerId, this.owner) };
  }

  /**
   * The container with its run; `completes`: of a spec that runs to completion, whose exited run
   * is looked at until it is settled. Null when it is gone or the inspect tells no run.
   */
  private async inspected(c: ObservedContainer, completes: boolean): Promise<ObservedContainer | null> {
    const key = `${c.state}:${String(c.exitCode)}`;
    const seen = this.seen.get(c.id);
    // A running container's creation time never changes; an exited run changes only if restarted.
    const fresh = !this.changed.has(c.id) && (c.state !== "exited" || !completes || seen?.run.settled === true);
    if (seen?.key === key && fresh) return { ...c, run: seen.run };
    // An event arriving while this inspect is in flight marks it changed again, for the next pass.
    this.changed.delete(c.id);
    this.died.delete(c.id);
    const details = await this.docker.inspectContainer(c.id);
    if (!details?.run) return null;
    const run = await this.withDeadlineStop(
      withExitCode(details.run, this.exitCodes.get(c.id), seen?.run),
      c.id,
      completes && details.state === "exited",
    );
    // Kept under the list's key: a list that shows what the inspect saw inspects once more.
    this.seen.set(c.id, { key, run });
    return asInspected(c, details, run);
  }
}

/**
 * The listed container as its inspect, made after the list, shows it. The process may have exited
 * (or been started again) in between: the list's state beside the inspect's run would be two
 * moments at once — running, with the run's last exit the one the engine did not restart after
 * (a run's final exit told as a restart: ops/event-log.ts), or exited with the run of before. The
 * state and exit code are the inspect's, so that they agree with its restarts and last exit;
 * the health is the list's while the state is the same (else the inspect's while running).
 */
function asInspected(c: ObservedContainer, details: ContainerDetails, run: ObservedRun): ObservedContainer {
  const health = details.state === c.state ? c.health : details.state === "running" ? details.health : null;
  return { ...c, state: details.state, exitCode: details.exitCode, health, run };
}

/**
 * Specs with a stableFor whose containers are of more than one version (a rollout under way): their
 * restarts decide whether the rollout holds (core/plan/rollout.ts). And specs with an
 * updatePartition so (canaries beside the old version): their status tells how the canaries run.
 */
function heldRollouts(
  containers: readonly ObservedContainer[],
  records: ReadonlyMap<string, SpecRecord>,
  keys: LabelKeys,
): Set<string> {
  const bySpec = new Map<string, ObservedContainer[]>();
  for (const c of containers) {
    const spec = c.labels[keys.spec] ?? "";
    const declared = records.get(spec)?.spec;
    if (declared == null || isRejectedName(c.name)) continue;
    if (declared.stableForMs === null && declared.updatePartition === 0) continue;
    const list = bySpec.get(spec);
    if (list) list.push(c);
    else bySpec.set(spec, [c]);
  }
  return new Set([...bySpec].filter(([, list]) => midRollout(list, keys)).map(([spec]) => spec));
}

/**
 * The run with its last exit's code where the inspect no longer tells it (started again): the
 * last `die` event's, else the code an earlier inspect read of the same exit.
 */
function withExitCode(run: ObservedRun, died: number | undefined, before: ObservedRun | undefined): ObservedRun {
  const exit = run.lastExit;
  if (exit === null || exit.code !== null) return run;
  const earlier = before?.lastExit?.at === exit.at ? before.lastExit.code : null;
  const code = died ?? earlier;
  return code === null ? run : { ...run, lastExit: { ...exit, code } };
}

const NONE: ReadonlySet<string> = new Set();
