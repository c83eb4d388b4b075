/**
 * The admission policy's last word, just before each create: the policy's checks of the Engine
 * API body actually sent (`network: auto` resolved, bind sources resolved on the host as they are
 * now), with the owners of joined namespaces looked up in the engine.
 */
import type { EngineCreateBody } from "../core/create-request.js";
import type { Ownership } from "../core/ownership.js";
import { checkRequest, type Policy, type PolicyContext } from "../core/policy/policy.js";
import type { DockerPort } from "../docker/port.js";

export class Admission {
  constructor(
    private readonly docker: DockerPort,
    private readonly policy: Policy,
    private readonly owner: Ownership,
    /** How host paths are resolved (host/host-paths.ts). */
    private readonly paths: PolicyContext,
  ) {}

  /** The violations of a create body: empty when it may be sent. */
  async audit(body: EngineCreateBody): Promise<readonly string[]> {
    const h = body.HostConfig;
    const joined = [h.NetworkMode, h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode]
      .filter((mode): mode is string => mode?.startsWith("container:") === true)
      .map((mode) => mode.slice("container:".length));
    const owned = new Set<string>();
    for (const name of new Set(joined)) {
      const target = await this.docker.inspectContainer(name);
      if (target && this.owner.owns(target)) owned.add(name);
    }
    return checkRequest(body, this.policy, { ...this.paths, ownsContainer: (name) => owned.has(name) });
  }
}
