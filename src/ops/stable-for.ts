/**
 * The look at the end of `berth apply --stable-for` (ops/stability.ts): the `die` events that end
 * the wait early can be missed (a reconnect of the events stream, a crash before it opened); an
 * inspect of each current container of a long-running spec cannot.
 */
import type { DockerPort } from "../docker/port.js";
import type { PassResult } from "../loop/reconciler.js";
import { inspectedExits, longRunningSpecs, statusExits, type UnstableExit } from "./stability.js";

/** Long-running containers of the pass's specs that exited since `since`, or are not running. */
export async function inspectExits(docker: DockerPort, result: PassResult, since: number): Promise<UnstableExit[]> {
  const longRunning = longRunningSpecs(result.snapshot.input.desired);
  // What the status knew: an inspect of a container running again reads no exit code.
  const told = new Map(statusExits(result.report, longRunning, since).map((e) => [e.name, e]));
  const exits: UnstableExit[] = [];
  for (const spec of result.report.specs) {
    if (!longRunning.has(spec.name)) continue;
    const ids = spec.containers.filter((c) => c.current && c.id !== "").map((c) => c.id);
    const found = await Promise.all(ids.map((id) => docker.inspectContainer(id)));
    exits.push(
      ...inspectedExits(
        spec.name,
        found.filter((c) => c !== null),
        since,
        told,
      ),
    );
  }
  return exits;
}
