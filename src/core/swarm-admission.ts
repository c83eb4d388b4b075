/**
 * The admission policy on what becomes the service (docs/swarm.md, "The admission policy"): the
 * spec passed the policy at validation, as under the engine target; this is the second,
 * independent check the engine target makes on each create body, made on the service body before
 * every service create and update. A task's container is made from the body's ContainerSpec,
 * Resources and EndpointSpec, so the body is read as that container's create request and run
 * through the same request checks (core/policy/policy.ts, checkRequest).
 */
import type { EngineCreateBody } from "./create-request.js";
import { checkRequest, type Policy, type PolicyContext } from "./policy/policy.js";
import type { ServiceSpec } from "./swarm-service.js";

/** The create request a task's container amounts to, as far as the policy reads one. */
export function taskRequest(service: ServiceSpec): EngineCreateBody {
  const c = service.TaskTemplate.ContainerSpec;
  const limits = service.TaskTemplate.Resources.Limits;
  const binds = c.Mounts.filter((m) => m.Type === "bind").map(
    (m) => `${m.Source ?? ""}:${m.Target}${m.ReadOnly === true ? ":ro" : ""}`,
  );
  const ports = service.EndpointSpec?.Ports ?? [];
  return {
    Image: c.Image,
    Env: c.Env,
    Labels: c.Labels,
    StopTimeout: Math.round(c.StopGracePeriod / 1e9),
    HostConfig: {
      ...(binds.length > 0 ? { Binds: binds } : {}),
      Mounts: c.Mounts.flatMap((m) => (m.Type === "bind" ? [] : [{ ...m, Type: m.Type }])),
      NetworkMode: "bridge",
      PortBindings: Object.fromEntries(
        ports.map((p) => [`${p.TargetPort}/${p.Protocol}`, [{ HostIp: "0.0.0.0", HostPort: String(p.PublishedPort) }]]),
      ),
      ...(limits.MemoryBytes !== undefined ? { Memory: limits.MemoryBytes } : {}),
      ...(limits.NanoCPUs !== undefined ? { NanoCpus: limits.NanoCPUs } : {}),
      ...(limits.Pids !== undefined ? { PidsLimit: limits.Pids } : {}),
      RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
      ...(c.CapabilityAdd ? { CapAdd: c.CapabilityAdd } : {}),
      ...(c.CapabilityDrop ? { CapDrop: c.CapabilityDrop } : {}),
      ...(c.Sysctls ? { Sysctls: c.Sysctls } : {}),
      ...(c.Ulimits ? { Ulimits: c.Ulimits } : {}),
    },
  };
}

/** The policy's refusals of a service body: `check-id: what` lines; empty when acceptable. */
export function checkService(service: ServiceSpec, policy: Policy, ctx: PolicyContext): string[] {
  return checkRequest(taskRequest(service), policy, ctx);
}
