/**
 * The host capacity in force (docs/capacity.md): as configured, and for `--capacity auto` the
 * engine's NCPU and MemTotal less `--reserve`, read once, at the first pass that needs it (a pass
 * that cannot ask the engine fails as its observation would, and the next one asks again). Logged
 * once resolved, so an operator sees what `auto` less the reserve came to.
 */
import type { Logger } from "pino";
import { type CapacityOptions, type CapacitySetting, formatAmount, resolveCapacity } from "../core/capacity.js";
import type { DockerPort } from "../docker/port.js";

export class HostCapacity {
  private resolved: CapacityOptions | null = null;

  constructor(
    private readonly docker: Pick<DockerPort, "hostResources">,
    private readonly setting: CapacitySetting,
    private readonly log?: Logger,
  ) {}

  async get(): Promise<CapacityOptions> {
    if (this.resolved) return this.resolved;
    const engine = this.setting.auto ? await this.docker.hostResources() : null;
    const resolved = resolveCapacity(this.setting, engine);
    this.resolved = resolved;
    const shown = (r: "cpus" | "memory" | "containers"): string | null => {
      const v = resolved.total[r];
      return v === null ? null : formatAmount(r, v);
    };
    this.log?.info(
      { cpus: shown("cpus"), memory: shown("memory"), containers: shown("containers") },
      "capacity in force",
    );
    if (engine)
      for (const [r, has] of [
        ["cpus", engine.nanoCpus],
        ["memory", engine.memoryBytes],
      ] as const) {
        if (this.setting.given[r] === undefined && this.setting.reserve[r] >= has)
          this.log?.warn(
            { resource: r, engine: formatAmount(r, has), reserve: formatAmount(r, this.setting.reserve[r]) },
            "--reserve is all the engine has: no container that requests it is admitted",
          );
      }
    return resolved;
  }
}
