/**
 * Reaping agents spawned by other tools (--reap-label KEY): any container whose label KEY holds
 * an RFC 3339 time in the past is killed and removed, berth-managed or not. `never` and values
 * that do not parse are left alone; the latter are logged once per container.
 */
import type { Logger } from "pino";
import { shortId } from "../core/observed.js";
import { NEVER, parseExpiresAt } from "../core/units.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";

export interface ReapCandidate {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly value: string;
  readonly expiresAt: number;
}

export interface SweepResult {
  readonly expired: readonly ReapCandidate[];
  readonly removed: readonly ReapCandidate[];
  /** The earliest expiry still in the future. */
  readonly nextExpiry: number | null;
}

export class Reaper {
  private readonly warned = new Set<string>();

  constructor(
    private readonly docker: DockerPort,
    private readonly keys: readonly string[],
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** Finds (and unless `dryRun`, removes) every container past its expiry label. */
  async sweep(now: number, dryRun = false): Promise<SweepResult> {
    const expired: ReapCandidate[] = [];
    const removed: ReapCandidate[] = [];
    const seen = new Set<string>();
    let nextExpiry: number | null = null;
    for (const key of this.keys) {
      const containers = await this.docker.listContainers({ labels: [key] });
      for (const c of containers) {
        const value = c.labels[key];
        if (value === undefined || value === NEVER || seen.has(c.id)) continue;
        const at = parseExpiresAt(value.trim());
        if (typeof at !== "number") {
          const once = `${c.id}:${key}:${value}`;
          if (!this.warned.has(once)) {
            this.warned.add(once);
            this.log.warn(
              { container: c.name, id: shortId(c.id), label: key, value },
              "expiry label not an RFC 3339 time; left alone",
            );
          }
          continue;
        }
        if (at > now) {
          if (nextExpiry === null || at < nextExpiry) nextExpiry = at;
          continue;
        }
        seen.add(c.id);
        expired.push({ id: c.id, name: c.name, label: key, value, expiresAt: at });
      }
    }
    if (!dryRun) {
      for (const candidate of expired) {
        try {
          await this.docker.removeContainer(candidate.id, { force: true });
          removed.push(candidate);
          this.log.info(
            { container: candidate.name, label: candidate.label, expiresAt: candidate.value },
            "expired container reaped",
          );
        } catch (err) {
          if (isDockerError(err, "not-found", "gone")) continue;
          this.log.warn(
            { container: candidate.name, err: (err as Error).message },
            "reaping failed; retried at the next sweep",
          );
        }
      }
    }
    return { expired, removed, nextExpiry };
  }
}
