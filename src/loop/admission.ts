/**
 * The admission policy's last word, where the engine must be asked (docs/policy.md):
 * - just before each create, the checks of the Engine API body actually sent (`network: auto`
 *   resolved, bind sources resolved on the host as they are now), with the owners of joined
 *   namespaces looked up, the named volumes inspected, and the mounts of every container of this
 *   controller as last observed (no bind mount inside a writable one, across containers);
 * - once the new container exists, its named volumes again: a volume in use cannot be removed, so
 *   what is inspected then is what the container will mount;
 * - before berth starts a container that exists, its mounts as the engine shows them (and its
 *   volumes): the engine resolves bind sources anew at every start.
 */
import type { EngineCreateBody } from "../core/create-request.js";
import type { ObservedContainer, ObservedMount, ObservedVolume } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import {
  bodyVolumes,
  checkMounts,
  checkRequest,
  checkVolumes,
  type Policy,
  type PolicyContext,
} from "../core/policy/policy.js";
import type { DockerPort } from "../docker/port.js";

export interface Verdict {
  /** `check-id: what` lines; empty when the body may be sent. */
  readonly violations: readonly string[];
  /** Named volumes the body mounts that do not exist yet: berth creates them, labelled, first. */
  readonly missingVolumes: readonly string[];
}

export class Admission {
  /**
   * The volumes other containers of berth's mount, as inspected: a volume in use cannot be
   * removed, so its options cannot change while a container holds it. Kept for the names the
   * last observation showed.
   */
  private readonly inUse = new Map<string, ObservedVolume | null>();

  constructor(
    private readonly docker: DockerPort,
    private readonly policy: Policy,
    private readonly owner: Ownership,
    /** How host paths are resolved (host/host-paths.ts). */
    private readonly paths: PolicyContext,
  ) {}

  /** The checks that need the engine apply at all (privileged: only the limits, which need none). */
  private get engineChecks(): boolean {
    return this.policy.profile !== "privileged";
  }

  /** The violations of a create body, given berth's containers as last observed. */
  async audit(body: EngineCreateBody, containers: readonly ObservedContainer[]): Promise<Verdict> {
    const h = body.HostConfig;
    const joined = [h.NetworkMode, h.PidMode, h.IpcMode, h.UTSMode, h.UsernsMode]
      .filter((mode): mode is string => mode?.startsWith("container:") === true)
      .map((mode) => mode.slice("container:".length));
    const owned = new Set<string>();
    for (const name of new Set(joined)) {
      const target = await this.docker.inspectContainer(name);
      if (target && this.owner.owns(target)) owned.add(name);
    }
    const names = bodyVolumes(body);
    const volumes = await this.inspectVolumes(names);
    const ctx = await this.context(body.Labels[this.owner.keys.spec] ?? "", containers, volumes);
    return {
      violations: checkRequest(body, this.policy, { ...ctx, ownsContainer: (name) => owned.has(name) }),
      missingVolumes: names.filter((name) => volumes.get(name) === null),
    };
  }

  /** Once the container exists: its named volumes (now held by it, so fixed) checked again. */
  async pinned(body: EngineCreateBody): Promise<readonly string[]> {
    return this.volumeVerdict(body.Labels[this.owner.keys.spec] ?? "", bodyVolumes(body));
  }

  /** What the volume checks say of a spec's named volumes as they are now (also for status). */
  async volumeVerdict(spec: string, names: readonly string[]): Promise<readonly string[]> {
    if (!this.engineChecks || names.length === 0) return [];
    const volumes = await this.inspectVolumes(names);
    return checkVolumes(names, this.policy, { ...this.paths, volumes, berthVolume: this.berthVolume(spec) });
  }

  /** Before berth starts a container that exists: its mounts, checked again against everyone's. */
  async beforeStart(
    container: {
      readonly id: string;
      readonly labels: Readonly<Record<string, string>>;
      readonly mounts: readonly ObservedMount[];
    },
    containers: readonly ObservedContainer[],
  ): Promise<readonly string[]> {
    if (!this.engineChecks) return [];
    const own = container.mounts.filter((m) => m.type === "volume").map((m) => m.source);
    const others = containers.filter((c) => c.id !== container.id);
    const ctx = await this.context(container.labels[this.owner.keys.spec] ?? "", others, await this.known(own));
    // Its volumes too: they are what they were at create, unless the policy changed since (or
    // berth was stopped between the create and the check that follows it).
    return [...checkMounts(container.mounts, this.policy, ctx), ...checkVolumes(own, this.policy, ctx)];
  }

  private berthVolume(spec: string): (volume: ObservedVolume) => boolean {
    const keys = this.owner.keys;
    return (v) =>
      v.driver === "local" && v.labels[keys.controller] === this.owner.controllerId && v.labels[keys.spec] === spec;
  }

  /** The policy context of a check: the other containers' mounts, and every volume involved. */
  private async context(
    spec: string,
    containers: readonly ObservedContainer[],
    volumes: ReadonlyMap<string, ObservedVolume | null>,
  ): Promise<PolicyContext> {
    if (!this.engineChecks) return this.paths;
    const theirs = await this.known(
      containers.flatMap((c) => c.mounts.filter((m) => m.type === "volume").map((m) => m.source)),
    );
    // Forget volumes no container holds any more.
    const held = new Set(theirs.keys());
    for (const name of this.inUse.keys()) if (!held.has(name)) this.inUse.delete(name);
    return {
      ...this.paths,
      otherMounts: containers.map((c) => ({ by: `container ${JSON.stringify(c.name)}`, mounts: c.mounts })),
      volumes: new Map([...theirs, ...volumes]),
      berthVolume: this.berthVolume(spec),
    };
  }

  /** Volumes held by containers: as inspected before, or inspected now. */
  private async known(names: readonly string[]): Promise<Map<string, ObservedVolume | null>> {
    const out = new Map<string, ObservedVolume | null>();
    for (const name of new Set(names)) {
      let volume = this.inUse.get(name);
      if (volume === undefined) {
        volume = await this.docker.inspectVolume(name);
        this.inUse.set(name, volume);
      }
      out.set(name, volume);
    }
    return out;
  }

  /** Volumes as they are now. */
  private async inspectVolumes(names: readonly string[]): Promise<Map<string, ObservedVolume | null>> {
    const out = new Map<string, ObservedVolume | null>();
    if (!this.engineChecks) return out;
    for (const name of new Set(names)) out.set(name, await this.docker.inspectVolume(name));
    return out;
  }
}
