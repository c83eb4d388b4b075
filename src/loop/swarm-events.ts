/**
 * Under `--target swarm`, the manager's service events as hints (docs/swarm.md): a service of
 * berth's, or one under a desired spec's name, created, updated or removed by anyone asks for a
 * pass, so that a service changed or removed by hand is put back at once rather than at the
 * resync. berth's own operations ask too; the pass that follows finds nothing left to do. The
 * stream, its reconnects and their backoff are the engine target's (engine-events.ts).
 */
import type { Logger } from "pino";
import type { DockerPort } from "../docker/port.js";
import type { BackoffPolicy } from "../util/backoff.js";
import type { Clock } from "../util/clock.js";
import { EngineEvents } from "./engine-events.js";

export interface ServiceEventsDeps {
  readonly docker: Pick<DockerPort, "subscribeEvents">;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** The service names the last pass cared about (SwarmReconciler.watchedServices). */
  readonly watched: () => ReadonlySet<string>;
  /** Asks for a pass. */
  readonly onChange: () => void;
  /** The stream was opened again after it ended or failed (berth_events_reconnects_total). */
  readonly onReconnected?: () => void;
}

/** Opens the stream; `close` ends it. */
export function watchServiceEvents(deps: ServiceEventsDeps): { close(): void } {
  const events = new EngineEvents({
    docker: deps.docker,
    // Service events carry the service's name, not its labels: the names are matched here.
    filter: { labels: [], types: ["service"] },
    clock: deps.clock,
    log: deps.log,
    backoff: deps.backoff,
    // Whatever happened while the stream was down: look again.
    onOpen: (again) => {
      if (!again) return;
      deps.onReconnected?.();
      deps.onChange();
    },
    onEvent: (event) => {
      const name = event.labels.name;
      if (event.type === "service" && name !== undefined && deps.watched().has(name)) deps.onChange();
    },
    // Look now: if the manager is gone, the pass fails and readiness says so.
    onLost: () => {
      deps.onChange();
    },
  });
  events.open();
  return {
    close: () => {
      events.close();
    },
  };
}
