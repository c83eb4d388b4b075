/**
 * The Docker events stream, filtered (this controller's containers; under swarm, services), kept
 * open: when it ends or fails it is opened again with backoff (util/backoff.ts). Events are hints
 * that ask for a pass; a lost one costs at most a resync interval, never correctness.
 */
import type { Logger } from "pino";
import type { DockerEvent, DockerPort, EventFilter, EventSubscription } from "../docker/port.js";
import { type BackoffPolicy, backoffDelay } from "../util/backoff.js";
import type { Clock, Timer } from "../util/clock.js";

/**
 * Container events that change nothing a pass reads (state, health, name, labels, config): an exec
 * (a healthcheck probe is one, every interval), an attach, a terminal resize, a `docker top`, an
 * export or a copy. A listed action, not a listed complement: an action the engine adds later
 * still asks for a pass, which costs a pass, never a missed change.
 */
const INERT_ACTIONS: ReadonlySet<string> = new Set([
  "exec_create",
  "exec_start",
  "exec_die",
  "exec_detach",
  "attach",
  "detach",
  "resize",
  "top",
  "export",
  "copy",
  "archive-path",
  "extract-to-dir",
]);

/**
 * Whether a container event can change what berth observes, so is worth a pass and a new inspect.
 * The engine appends details to some actions (`exec_start: sh -c …`, `health_status: healthy`):
 * the word before the colon is the action.
 */
export function changesObserved(event: DockerEvent): boolean {
  const colon = event.action.indexOf(":");
  const action = colon === -1 ? event.action : event.action.slice(0, colon);
  return !INERT_ACTIONS.has(action.trim());
}

export interface EngineEventsDeps {
  readonly docker: Pick<DockerPort, "subscribeEvents">;
  /** Which events: the engine target's controller asks for its own containers' (by label). */
  readonly filter: EventFilter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** The stream is open; `again` after it had ended or failed. */
  readonly onOpen: (again: boolean) => void;
  readonly onEvent: (event: DockerEvent) => void;
  /** The stream ended or failed for the first time since it was last open. */
  readonly onLost: () => void;
}

export class EngineEvents {
  private subscription: EventSubscription | null = null;
  private retry: Timer | null = null;
  private failures = 0;
  private closed = false;

  constructor(private readonly deps: EngineEventsDeps) {}

  open(): void {
    if (this.closed) return;
    this.subscription = this.deps.docker.subscribeEvents(this.deps.filter, {
      onOpen: () => {
        const again = this.failures > 0;
        if (again) this.deps.log.info({}, "Docker events reconnected");
        this.failures = 0;
        this.deps.onOpen(again);
      },
      onEvent: (event) => {
        this.deps.onEvent(event);
      },
      onClose: (err) => {
        this.subscription = null;
        if (this.closed) return;
        this.failures++;
        const delay = backoffDelay(this.failures, this.deps.backoff);
        if (this.failures === 1) {
          this.deps.log.warn({ err: err?.message ?? "stream ended", retryInMs: delay }, "Docker events disconnected");
          this.deps.onLost();
        }
        this.retry = this.deps.clock.at(this.deps.clock.now() + delay, () => {
          this.retry = null;
          this.open();
        });
      },
    });
  }

  close(): void {
    this.closed = true;
    this.retry?.cancel();
    this.subscription?.close();
  }
}
