/**
 * What the loop knows of host ports that no observation shows (docs/ports.md): ports handed to a
 * create still in flight (its container may not be listed yet), and ports a program outside
 * Docker holds (the engine lists no such listener; a start told us). Hints for the planner, never
 * state: after a restart nothing is in flight, and a held port is found again by a failed start.
 */
import { reservedBy } from "../core/host-ports.js";
import type { Action } from "../core/plan/plan.js";
import type { Clock } from "../util/clock.js";

/** How long a port a program outside Docker held is avoided. */
export const AVOID_MS = 10 * 60_000;
/** At most this many such ports are remembered (the oldest is forgotten first). */
export const AVOID_MAX = 256;

export class HostPortHints {
  /** Port → until when it is avoided (epoch ms). */
  private readonly avoided = new Map<number, number>();
  /** Spec → the ports its dispatched operations were given. */
  private readonly reserved = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  /** A start failed because something outside Docker holds `port`. */
  avoid(port: number): void {
    this.avoided.delete(port);
    this.avoided.set(port, this.clock.now() + AVOID_MS);
    if (this.avoided.size > AVOID_MAX) this.avoided.delete(this.avoided.keys().next().value as number);
  }

  /** The actions just dispatched for `spec`: their auto ports are held until the spec is idle again. */
  dispatched(spec: string, actions: readonly Action[]): void {
    const ports = actions.flatMap((a) =>
      (a.kind === "create" || a.kind === "replace") && a.hostPorts ? Object.values(a.hostPorts) : [],
    );
    if (ports.length > 0) this.reserved.set(spec, ports);
  }

  /**
   * The ports the next plan must not give, asked just before the observation: those avoided, and
   * those of specs still busy (a spec idle now has its containers in the observation).
   */
  busy(isBusy: (spec: string) => boolean): Map<number, string> {
    const now = this.clock.now();
    for (const [port, until] of this.avoided) if (until <= now) this.avoided.delete(port);
    for (const spec of this.reserved.keys()) if (!isBusy(spec)) this.reserved.delete(spec);
    const busy = new Map<number, string>();
    for (const [spec, ports] of this.reserved) for (const port of ports) busy.set(port, reservedBy(spec));
    for (const port of this.avoided.keys()) busy.set(port, "");
    return busy;
  }
}
