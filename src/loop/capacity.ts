/**
 * The host capacity in force (docs/capacity.md): as configured, and for `--capacity auto` the
 * engine's NCPU and MemTotal less `--reserve`, read once, at the first pass that needs it (a pass
 * that cannot ask the engine fails as its observation would, and the next one asks again).
 */
import { type CapacityOptions, type CapacitySetting, resolveCapacity } from "../core/capacity.js";
import type { DockerPort } from "../docker/port.js";

export class HostCapacity {
  private resolved: CapacityOptions | null = null;

  constructor(
    private readonly docker: Pick<DockerPort, "hostResources">,
    private readonly setting: CapacitySetting,
  ) {}

  async get(): Promise<CapacityOptions> {
    this.resolved ??= resolveCapacity(this.setting, this.setting.auto ? await this.docker.hostResources() : null);
    return this.resolved;
  }
}
