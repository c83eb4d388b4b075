/**
 * Golden tests of `--target swarm`'s pure core: the service plan (create, update with the changed
 * fields, scale, remove, expiry, the prune guard, a name held by another's service), the service
 * body a spec maps to, and the fields each target refuses, with their paths.
 */
import { describe, expect, it } from "vitest";
import { specHash } from "../../../src/core/hash.js";
import type { PlanInput } from "../../../src/core/plan/plan.js";
import { type ObservedService, planSwarm, renderSwarmPlan } from "../../../src/core/swarm-plan.js";
import { LEXICAL_CONTEXT } from "../../../src/core/policy/policy.js";
import { checkService } from "../../../src/core/swarm-admission.js";
import { type ObservedSecret, secretLabels, secretName } from "../../../src/core/swarm-secrets.js";
import { serviceSpec } from "../../../src/core/swarm-service.js";
import { type ObservedTask, swarmStatus } from "../../../src/core/swarm-status.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { CONTROLLER, desired, IMAGE, KEYS, OPTIONS } from "../../support/plan-fixtures.js";
import { specText, type SpecTextOptions } from "../../support/specs.js";
import { observedService } from "../../support/swarm-status.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
type Desired = ReturnType<typeof desired>;

function input(specs: readonly Desired[], extra: Partial<PlanInput> = {}): PlanInput {
  return { desired: specs, protectedSpecs: new Set(), protectedSources: new Set(), prunePaused: null, ...extra };
}

let counter = 0;
/** The service berth made from `d` (its labels as serviceSpec writes them), with `over` applied. */
function service(d: Desired, over: Partial<ObservedService> = {}): ObservedService {
  counter++;
  return observedService(serviceSpec(d, OPTIONS.owner), `svc${String(counter).padStart(4, "0")}aaaabbbbcccc`, 10, over);
}

/** A desired spec as parsed under --target swarm (placement is refused under engine), 0.0.0.0 allowed. */
function swarmDesired(name: string, options: SpecTextOptions): Desired {
  const parsed = parseSpecText(specText(name, { image: IMAGE, ...options }), `${name}.yaml`, {
    ...DEFAULT_PARSE_OPTIONS,
    target: "swarm",
    // Swarm publishes on every address: the policy must allow it, as for the engine target.
    policy: { ...DEFAULT_PARSE_OPTIONS.policy, allowHostIPs: ["0.0.0.0"] },
  });
  const spec = parsed.documents[0]?.spec;
  if (!spec) throw new Error(parsed.issues.map((i) => i.message).join("; "));
  return { spec, hash: specHash(spec), source: `${name}.yaml`, secretDigests: {} };
}

const plan = (
  i: PlanInput,
  services: readonly ObservedService[],
  options = {},
  secrets: readonly ObservedSecret[] = [],
) => renderSwarmPlan(planSwarm(i, { services, secrets }, NOW, { ...OPTIONS, ...options }));

describe("the swarm plan", () => {
  it("creates a missing service and leaves a converged one alone", () => {
    counter = 0;
    const web = desired("web");
    expect(plan(input([web]), [])).toBe("create  service web: not found");
    expect(plan(input([web]), [service(web)])).toBe("");
  });

  it("updates a service whose hash changed, naming the changed fields; StopFirst when the spec says", () => {
    counter = 0;
    const before = desired("web", { extra: ["env: { MODE: one }", "resources: { memory: 64Mi }"] });
    const after = desired("web", { extra: ["env: { MODE: two }", "resources: { memory: 128Mi }"] });
    expect(plan(input([after]), [service(before)])).toBe(
      [
        "update  service web [svc0001aaaab] StartFirst: hash changed",
        "    ~ env.MODE: one → two",
        "    ~ resources.memory: 64Mi → 128Mi",
      ].join("\n"),
    );
    // An applied label berth did not write: the bare reason.
    const stopFirst = desired("web", { extra: ["updateStrategy: StopFirst", "env: { MODE: two }"] });
    const made = service(before);
    expect(plan(input([stopFirst]), [{ ...made, labels: { ...made.labels, [KEYS.applied]: "x" } }])).toBe(
      "update  service web [svc0002aaaab] StopFirst: hash changed",
    );
  });

  it("scales for replicas and suspended, without an update", () => {
    counter = 0;
    const three = desired("web", { replicas: 3 });
    expect(plan(input([three]), [service(three, { replicas: 1 })])).toBe(
      "scale   service web [svc0001aaaab] 1 -> 3: replicas changed",
    );
    const suspended = desired("web", { extra: ["suspended: true"] });
    expect(plan(input([suspended]), [service(suspended, { replicas: 1 })])).toBe(
      "scale   service web [svc0002aaaab] 1 -> 0: suspended",
    );
    const resumed = desired("web");
    expect(plan(input([resumed]), [service(resumed, { replicas: 0 })])).toBe(
      "scale   service web [svc0003aaaab] 0 -> 1: resumed",
    );
  });

  it("lists a replicas change made with another change among the update's fields, as apply scales with it", () => {
    counter = 0;
    const before = desired("can", { replicas: 3, extra: ["command: [serve, v3]"] });
    const after = desired("can", { replicas: 4, extra: ["command: [serve, v4]"] });
    const made = service(before);
    expect(made.replicas).toBe(3);
    const result = planSwarm(input([after]), { services: [made], secrets: [] }, NOW, OPTIONS);
    expect(renderSwarmPlan(result)).toBe(
      [
        "update  service can [svc0001aaaab] StartFirst: hash changed",
        "    ~ command: [serve, v3] → [serve, v4]",
        "    ~ replicas: 3 → 4",
      ].join("\n"),
    );
    // `plan -o json` prints the action itself: its changes name the replicas too.
    expect(result.actions[0]).toMatchObject({
      kind: "update",
      changes: [
        { op: "change", path: "command" },
        { op: "change", path: "replicas", from: "3", to: "4" },
      ],
    });
    // Replicas alone are still a scale, and a spec change alone lists no replicas.
    const four = desired("can", { replicas: 4, extra: ["command: [serve, v3]"] });
    expect(plan(input([four]), [service(before)])).toBe("scale   service can [svc0002aaaab] 3 -> 4: replicas changed");
    const same = desired("can", { replicas: 3, extra: ["command: [serve, v4]"] });
    expect(plan(input([same]), [service(before)])).toBe(
      ["update  service can [svc0003aaaab] StartFirst: hash changed", "    ~ command: [serve, v3] → [serve, v4]"].join(
        "\n",
      ),
    );
  });

  it("removes an expired service and wakes at the next expiry", () => {
    counter = 0;
    const gone = desired("old", { extra: ['expiresAt: "2026-11-23T11:00:00Z"'] });
    const later = desired("new", { extra: ['expiresAt: "2026-11-23T13:00:00Z"'] });
    const result = planSwarm(
      input([gone, later]),
      { services: [service(gone), service(later)], secrets: [] },
      NOW,
      OPTIONS,
    );
    expect(renderSwarmPlan(result)).toBe("remove  service old [svc0001aaaab]: expired");
    expect(result.nextWakeAt).toBe(Date.UTC(2026, 10, 23, 13, 0, 0));
    // An expired spec with no service: nothing to do, nothing created.
    expect(plan(input([gone]), [])).toBe("");
  });

  it("removes orphans under the prune guard, never a protected spec's, never another's service", () => {
    counter = 0;
    const [a, b, c] = [desired("a"), desired("b"), desired("c")];
    const all = [service(a), service(b), service(c)];
    expect(plan(input([a, b]), all)).toBe("remove  service c [svc0003aaaab]: orphaned");
    expect(plan(input([a]), all)).toBe(
      "! pruning paused: 2 of 3 services would be removed, more than --prune-max-share 0.5 (--force-prune to remove them) (kept: b, c)",
    );
    expect(plan(input([a]), all, { forcePrune: true })).toBe(
      ["remove  service b [svc0002aaaab]: orphaned", "remove  service c [svc0003aaaab]: orphaned"].join("\n"),
    );
    expect(plan(input([a, b], { prunePaused: "no spec files in specs" }), all)).toBe(
      "! pruning paused: no spec files in specs (kept: c)",
    );
    expect(plan(input([a, b], { protectedSpecs: new Set(["c"]) }), all)).toBe("");
    // c.yaml is broken and names no spec (a Git commit that broke it: no last good version at its new path).
    expect(plan(input([a, b], { protectedSources: new Set([c.source]) }), all)).toBe("");
    const foreign = service(c, { labels: { [KEYS.controller]: "someone-else" } });
    expect(plan(input([a, b]), [service(a), service(b), foreign])).toBe("");
    expect(plan(input([a, b, c]), [service(a), service(b), foreign])).toBe(
      "! c: the service name is held by service svc0004aaaab, which berth does not own",
    );
  });

  it("removes a service whose spec was deleted through the API, even while pruning is paused", () => {
    counter = 0;
    const [a, b, c] = [desired("a"), desired("b"), desired("c")];
    const all = [service(a), service(b), service(c)];
    // Two of three gone: the guard holds orphans, but not a spec removed on purpose.
    expect(plan(input([a], { deleted: new Set(["b", "c"]) }), all)).toBe(
      ["remove  service b [svc0002aaaab]: deleted", "remove  service c [svc0003aaaab]: deleted"].join("\n"),
    );
    expect(plan(input([], { deleted: new Set(["c"]) }), all)).toBe(
      [
        "remove  service c [svc0003aaaab]: deleted",
        "! pruning paused: 2 of 3 services would be removed, more than --prune-max-share 0.5 (--force-prune to remove them) (kept: a, b)",
      ].join("\n"),
    );
    expect(plan(input([a, b], { deleted: new Set(["c"]), prunePaused: "no spec files in specs" }), all)).toBe(
      "remove  service c [svc0003aaaab]: deleted",
    );
    // Written again since: desired, so kept; another controller's service of that name is never touched.
    expect(plan(input([a, b, c], { deleted: new Set(["c"]) }), all)).toBe("");
    const foreign = service(c, { labels: { [KEYS.controller]: "someone-else" } });
    expect(plan(input([a, b], { deleted: new Set(["c"]) }), [service(a), service(b), foreign])).toBe("");
  });
});

describe("secrets, global services and published ports in the plan", () => {
  const TOKEN = ["secretEnv: { TOKEN: { fromHostEnv: TOKEN } }"];
  /** The Swarm secret berth made for `d`'s entry `key`, as the secret list shows it. */
  const secretOf = (d: Desired, key: string, id: string): ObservedSecret => {
    const digest = d.secretDigests[key] ?? "";
    return {
      id,
      name: secretName(OPTIONS.owner, d.spec.name, key, digest),
      labels: secretLabels(OPTIONS.owner, d.spec.name, key, digest),
    };
  };

  it("names a secret by controller, spec, entry and the value's keyed digest; a long name stays under 64", () => {
    const d = desired("web", { extra: TOKEN }, { TOKEN: "s3cret" });
    expect(secretName(OPTIONS.owner, "web", "TOKEN", d.secretDigests.TOKEN ?? "")).toBe(
      `berth-test-web-TOKEN-${(d.secretDigests.TOKEN ?? "").slice(0, 12)}`,
    );
    const long = secretName(OPTIONS.owner, "a".repeat(63), "A_VERY_LONG_SECRET_NAME", "0123456789abcdef");
    expect(long).toMatch(/^berth-test-a+-[0-9a-f]{8}-0123456789ab$/);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(secretName(OPTIONS.owner, "a".repeat(63), "OTHER_SECRET_NAME_LONG", "0123456789abcdef")).not.toBe(long);
  });

  it("creates a service with its secrets made first, and reuses a secret that exists", () => {
    counter = 0;
    const d = desired("web", { extra: TOKEN }, { TOKEN: "one" });
    const name = secretName(OPTIONS.owner, "web", "TOKEN", d.secretDigests.TOKEN ?? "");
    expect(plan(input([d]), [])).toBe(`create  service web: not found\n    + secret ${name}`);
    // Made by an earlier pass whose service create failed: used, not made again nor removed.
    expect(plan(input([d]), [], {}, [secretOf(d, "TOKEN", "sec1")])).toBe("create  service web: not found");
    const made = service(d, { secretIds: ["sec1"] });
    expect(plan(input([d]), [made], {}, [secretOf(d, "TOKEN", "sec1")])).toBe("");
  });

  it("rotates: a new secret and an update naming the entry, then the old secret goes once unused", () => {
    counter = 0;
    const before = desired("web", { extra: TOKEN }, { TOKEN: "one" });
    const after = desired("web", { extra: TOKEN }, { TOKEN: "two" });
    const old = secretOf(before, "TOKEN", "sec1");
    const next = secretName(OPTIONS.owner, "web", "TOKEN", after.secretDigests.TOKEN ?? "");
    const running = service(before, { secretIds: ["sec1"] });
    const rendered = plan(input([after]), [running], {}, [old]);
    expect(rendered).toBe(
      [
        "update  service web [svc0001aaaab] StartFirst: hash changed",
        "    ~ secretEnv.TOKEN: (value changed)",
        `    + secret ${next}`,
      ].join("\n"),
    );
    expect(rendered).not.toContain("one");
    // Updated, still rolling: the old tasks still run with the old secret.
    const updated = service(after, { secretIds: ["sec2"], updating: true });
    const both = [old, secretOf(after, "TOKEN", "sec2")];
    expect(plan(input([after]), [updated], {}, both)).toBe("");
    // Rolled: the old one goes.
    expect(plan(input([after]), [{ ...updated, updating: false }], {}, both)).toBe(
      `remove  secret ${old.name} [sec1]: unused`,
    );
    // Not while pruning is paused, nor for a protected spec, nor another controller's.
    expect(
      plan(input([after], { prunePaused: "no spec files in specs" }), [{ ...updated, updating: false }], {}, both),
    ).toBe("");
    expect(plan(input([], { protectedSpecs: new Set(["web"]) }), [], {}, [old])).toBe("");
    expect(plan(input([]), [], {}, [{ ...old, labels: { ...old.labels, [KEYS.controller]: "other" } }])).toBe("");
  });

  it("removes a service's secrets after the service, and an expired spec's", () => {
    counter = 0;
    const d = desired("web", { extra: TOKEN }, { TOKEN: "one" });
    const sec = secretOf(d, "TOKEN", "sec1");
    const keep = desired("keep");
    const web = service(d, { secretIds: ["sec1"] });
    expect(plan(input([keep]), [service(keep), web], { forcePrune: true }, [sec])).toBe(
      "remove  service web [svc0001aaaab]: orphaned",
    );
    expect(plan(input([keep]), [service(keep)], {}, [sec])).toBe(`remove  secret ${sec.name} [sec1]: unused`);
  });

  it("makes a global service, never scales it, and replaces a service whose mode changed", () => {
    counter = 0;
    const global = swarmDesired("agent", { extra: ["global: true"] });
    expect(serviceSpec(global, OPTIONS.owner).Mode).toEqual({ Global: {} });
    expect(plan(input([global]), [])).toBe("create  service agent: not found");
    expect(plan(input([global]), [service(global)])).toBe("");
    const replicated = swarmDesired("agent", { replicas: 2 });
    expect(plan(input([replicated]), [service(global)])).toBe("replace service agent [svc0002aaaab]: mode changed");
    expect(plan(input([global]), [service(replicated)])).toBe("replace service agent [svc0003aaaab]: mode changed");
  });

  it("maps published ports to the endpoint, ingress unless host, and secrets to files with <KEY>_FILE", () => {
    const d = swarmDesired("web", {
      extra: [
        "ports: [{ containerPort: 80, hostPort: 18080, hostIP: 0.0.0.0 }, { containerPort: 53, hostPort: 18053, hostIP: 0.0.0.0, protocol: udp, mode: host }, { containerPort: 9000 }]",
        "env: { MODE: one }",
      ],
    });
    const body = serviceSpec(d, OPTIONS.owner, [
      { key: "TOKEN", name: "berth-test-web-TOKEN-abc", digest: "d", id: "sec1" },
    ]);
    expect(body.EndpointSpec).toEqual({
      Ports: [
        { Protocol: "udp", TargetPort: 53, PublishedPort: 18053, PublishMode: "host" },
        { Protocol: "tcp", TargetPort: 80, PublishedPort: 18080, PublishMode: "ingress" },
      ],
    });
    expect(body.TaskTemplate.ContainerSpec.Env).toEqual(["MODE=one", "TOKEN_FILE=/run/secrets/TOKEN"]);
    expect(body.TaskTemplate.ContainerSpec.Secrets).toEqual([
      {
        SecretID: "sec1",
        SecretName: "berth-test-web-TOKEN-abc",
        File: { Name: "TOKEN", UID: "0", GID: "0", Mode: 0o444 },
      },
    ]);
    expect(serviceSpec(desired("plain"), OPTIONS.owner)).not.toHaveProperty("EndpointSpec");
  });
});

describe("the service a spec becomes", () => {
  it("maps replicas, env, command, resources, restart policy, user, healthcheck, mounts, networks, placement and the update order", () => {
    const d = swarmDesired("web", {
      replicas: 2,
      labels: { "com.example.app": "web" },
      extra: [
        'command: ["sleep", "60"]',
        'user: "1000:1000"',
        "env: { MODE: one }",
        "network: backend",
        "resources: { cpus: 500m, memory: 64Mi, memoryReservation: 32Mi, pids: 64 }",
        "restartPolicy: OnFailure",
        "backoffLimit: 3",
        'healthcheck: { command: ["true"], interval: 5s }',
        "mounts: [{ type: tmpfs, target: /tmp, size: 16Mi }, { type: volume, source: data, target: /data }]",
        'placement: { constraints: ["node.labels.zone==a"], preferences: [{ spread: node.labels.rack }] }',
        "updateStrategy: StopFirst",
      ],
    });
    const body = serviceSpec(d, OPTIONS.owner);
    expect(body.Labels).toMatchObject({
      "com.example.app": "web",
      [KEYS.controller]: CONTROLLER,
      [KEYS.spec]: "web",
      [KEYS.hash]: d.hash,
      [KEYS.expiresAt]: "never",
      [KEYS.source]: "web.yaml",
    });
    expect({ ...body, Labels: undefined }).toEqual({
      Name: "web",
      Labels: undefined,
      TaskTemplate: {
        ContainerSpec: {
          Image: IMAGE,
          Labels: { "com.example.app": "web" },
          Args: ["sleep", "60"],
          Env: ["MODE=one"],
          User: "1000:1000",
          Mounts: [
            { Type: "volume", Source: "data", Target: "/data", ReadOnly: false },
            { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 16 * 2 ** 20 } },
          ],
          StopGracePeriod: 10_000_000_000,
          Healthcheck: { Test: ["CMD", "true"], Interval: 5e9, Timeout: 30e9, Retries: 3, StartPeriod: 0 },
        },
        Resources: {
          Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 2 ** 20, Pids: 64 },
          Reservations: { MemoryBytes: 32 * 2 ** 20 },
        },
        RestartPolicy: { Condition: "on-failure", MaxAttempts: 3 },
        Placement: {
          Constraints: ["node.labels.zone==a"],
          Preferences: [{ Spread: { SpreadDescriptor: "node.labels.rack" } }],
        },
        Networks: [{ Target: "backend" }],
      },
      Mode: { Replicated: { Replicas: 2 } },
      UpdateConfig: { Parallelism: 1, Order: "stop-first", FailureAction: "pause" },
    });
  });

  it("maps hostAliases, dnsConfig, stopSignal and logging to the task's hosts, resolver, stop signal and log driver", () => {
    const d = swarmDesired("web", {
      extra: [
        "hostAliases: [{ ip: 10.0.0.5, hostnames: [db.internal, store.internal] }, { ip: host-gateway, hostnames: [gw] }]",
        "dnsConfig: { nameservers: [10.0.0.2], options: [{ name: ndots, value: '2' }, { name: edns0 }] }",
        "stopSignal: SIGQUIT",
        "logging: { driver: local, options: { max-size: 5m } }",
      ],
    });
    const body = serviceSpec(d, OPTIONS.owner);
    expect(body.TaskTemplate.ContainerSpec).toMatchObject({
      // A line per name: Docker 26's swarm executor reads only a line's first name.
      Hosts: ["10.0.0.5 db.internal", "10.0.0.5 store.internal", "host-gateway gw"],
      DNSConfig: { Nameservers: ["10.0.0.2"], Options: ["ndots:2", "edns0"] },
      StopSignal: "SIGQUIT",
    });
    expect(body.TaskTemplate.ContainerSpec.DNSConfig).not.toHaveProperty("Search");
    expect(body.TaskTemplate.LogDriver).toEqual({ Name: "local", Options: { "max-size": "5m" } });
    // None of them given: none of them on the service.
    const plain = serviceSpec(swarmDesired("plain", {}), OPTIONS.owner);
    for (const key of ["Hosts", "DNSConfig", "StopSignal"])
      expect(plain.TaskTemplate.ContainerSpec).not.toHaveProperty(key);
    expect(plain.TaskTemplate).not.toHaveProperty("LogDriver");
  });

  it("maps stableFor to the update's monitor and delay: a task that fails within it pauses the update before the next", () => {
    const body = serviceSpec(swarmDesired("web", { extra: ["stableFor: 1m30s"] }), OPTIONS.owner);
    expect(body.UpdateConfig).toEqual({
      Parallelism: 1,
      Order: "start-first",
      FailureAction: "pause",
      Monitor: 90_000_000_000,
      Delay: 90_000_000_000,
    });
    expect(serviceSpec(swarmDesired("plain", {}), OPTIONS.owner).UpdateConfig).not.toHaveProperty("Monitor");
  });

  it("updates a service with an ingress port start-first (the routing mesh serves both tasks), a host-mode one stop-first", () => {
    const order = (ports: string, extra: readonly string[] = []) =>
      serviceSpec(swarmDesired("web", { replicas: 2, extra: [`ports: [${ports}]`, ...extra] }), OPTIONS.owner)
        .UpdateConfig.Order;
    const ingress = "{ containerPort: 80, hostPort: 18080, hostIP: 0.0.0.0 }";
    const host = "{ containerPort: 81, hostPort: 18081, hostIP: 0.0.0.0, mode: host }";
    expect(order(ingress)).toBe("start-first");
    expect(order(ingress, ["updateStrategy: StopFirst"])).toBe("stop-first");
    expect(order(`${ingress}, ${host}`)).toBe("stop-first");
    expect(order(host, ["updateStrategy: StartFirst"])).toBe("stop-first");
    // The engine target: a published port is always replaced stop-first (one host, one port).
    expect(desired("web", { extra: [`ports: [{ containerPort: 80, hostPort: 18080 }]`] }).spec.updateStrategy).toBe(
      "StopFirst",
    );
  });

  it("maps updateParallelism to the update's parallelism", () => {
    const body = serviceSpec(swarmDesired("web", { replicas: 4, extra: ["updateParallelism: 2"] }), OPTIONS.owner);
    expect(body.UpdateConfig.Parallelism).toBe(2);
  });

  it("carries the Git revision on the service alone; another revision of the same spec is no update", () => {
    const web = desired("web");
    const [first, second] = ["1".repeat(40), "2".repeat(40)];
    const body = serviceSpec({ ...web, revision: first }, OPTIONS.owner);
    expect(body.Labels[KEYS.revision]).toBe(first);
    expect(body.TaskTemplate.ContainerSpec.Labels).not.toHaveProperty(KEYS.revision);
    expect(serviceSpec(web, OPTIONS.owner).Labels).not.toHaveProperty(KEYS.revision);
    expect({ ...body, Labels: null }).toEqual({ ...serviceSpec(web, OPTIONS.owner), Labels: null });
    // A commit that changes no spec: the service made at the first revision stays as it is.
    const made = service(web, { labels: body.Labels });
    expect(plan(input([{ ...web, revision: second } as Desired]), [made])).toBe("");
  });
});

describe("what each target refuses", () => {
  const issues = (extra: readonly string[], target: "engine" | "swarm") =>
    parseSpecText(specText("web", { image: IMAGE, extra }), "web.yaml", {
      ...DEFAULT_PARSE_OPTIONS,
      target,
    }).issues.map((i) => `${i.line}:${i.column} ${i.code} ${i.path}: ${i.message}`);

  it("refuses under swarm what a service cannot carry, each at its path", () => {
    expect(
      issues(
        [
          "network: container:other",
          "securityContext: { privileged: true }",
          "secretEnv: { TOKEN: { fromHostEnv: TOKEN } }",
          "env: { TOKEN_FILE: /elsewhere }",
        ],
        "swarm",
      ),
    ).toEqual([
      "7:12 BERTH_TARGET spec.network: not under --target swarm: a Swarm service cannot express it (a service joins swarm-scoped networks by name, or none given: the default)",
      "8:34 BERTH_TARGET spec.securityContext.privileged: not under --target swarm: a Swarm service cannot express it (services never run privileged)",
      "10:22 BERTH_TARGET spec.env.TOKEN_FILE: not under --target swarm: berth sets it to the file of secretEnv.TOKEN under --target swarm",
    ]);
    expect(issues(["dependsOn: [{ name: db }]"], "swarm")).toEqual([
      "7:14 BERTH_TARGET spec.dependsOn: not under --target swarm: Swarm starts services in no order (as docker stack deploy ignores depends_on): make the service retry",
    ]);
    // Canaries run as a second service (core/swarm-canary.ts): not for a global service, not with a
    // published port, not for a name too long for the second service's.
    expect(issues(["replicas: 3", "updatePartition: 2"], "swarm")).toEqual([]);
    expect(issues(["global: true", "updatePartition: 2"], "swarm")).toEqual([
      "8:20 BERTH_TARGET spec.updatePartition: not under --target swarm: a global service runs one task on every node; it has no replicas to hold back",
    ]);
    expect(
      issues(
        ["replicas: 3", "updatePartition: 2", "ports: [{ containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0 }]"],
        "swarm",
      ),
    ).toEqual([
      "8:20 BERTH_TARGET spec.updatePartition: not under --target swarm: the canaries run as a second service, and Swarm publishes a port for one service only; remove hostPort, or roll every task",
    ]);
    // Replicas sharing a published port: Swarm's routing mesh spreads it over them (the engine target refuses it).
    const shared = ["replicas: 3", "ports: [{ containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0 }]"];
    // (0.0.0.0 is then the admission policy's to allow, as for every published port.)
    expect(issues(shared, "swarm")).toEqual([
      "8:56 BERTH_POLICY spec.ports[0].hostIP: publishing on 0.0.0.0 is refused (loopback only); allow it with --allow-host-ip 0.0.0.0, or run berth with --policy privileged [policy baseline: allowed-host-ip]",
    ]);
    expect(issues(shared, "engine")).toEqual([
      "7:13 BERTH_VALUE spec.replicas: 3 replicas cannot all publish the same host port; use replicas: 1 or drop hostPort",
    ]);
    const long = "a".repeat(57);
    expect(
      parseSpecText(specText(long, { image: IMAGE, extra: ["replicas: 3", "updatePartition: 2"] }), "long.yaml", {
        ...DEFAULT_PARSE_OPTIONS,
        target: "swarm",
      }).issues.map((i) => `${i.path}: ${i.message}`),
    ).toEqual([
      `spec.updatePartition: not under --target swarm: the canaries' service is named ${long}_canary, longer than Swarm's 63 characters; use a name of at most 56`,
    ]);
    expect(issues(["shmSize: 256Mi"], "swarm")).toEqual([
      "7:12 BERTH_TARGET spec.shmSize: not under --target swarm: a Swarm service cannot express it (mount a tmpfs at /dev/shm instead)",
    ]);
    // secretEnv itself is taken: it becomes Swarm secrets.
    expect(issues(["secretEnv: { TOKEN: { fromHostEnv: TOKEN } }"], "swarm")).toEqual([]);
  });

  it("publishes ports only on every address, with a number, the mode only with a port", () => {
    const ports = (p: string) => issues([`ports: [${p}]`], "swarm");
    expect(ports("{ containerPort: 80, hostPort: 18080 }")).toEqual([
      "7:42 BERTH_TARGET spec.ports[0].hostPort: not under --target swarm: Swarm publishes a port on every address of the nodes (no loopback-only publishing); write hostIP: 0.0.0.0 to say so",
    ]);
    expect(ports("{ containerPort: 80, hostPort: 18080, hostIP: 127.0.0.1 }")).toEqual([
      "7:57 BERTH_TARGET spec.ports[0].hostIP: not under --target swarm: Swarm publishes a port on every address of the nodes (no loopback-only publishing); write hostIP: 0.0.0.0 to say so",
    ]);
    expect(ports("{ containerPort: 80, hostPort: auto, hostIP: 0.0.0.0 }")).toEqual([
      "7:42 BERTH_TARGET spec.ports[0].hostPort: not under --target swarm: auto ports are picked on this host (docs/ports.md); give the port's number",
    ]);
    expect(ports("{ containerPort: 80, mode: host }")).toEqual([
      "7:38 BERTH_TARGET spec.ports[0].mode: not under --target swarm: a port's mode says how hostPort is published; set hostPort",
    ]);
    // The policy then decides on 0.0.0.0, as it does under engine (allowed here: see OPTIONS below).
    expect(ports("{ containerPort: 80, hostPort: 18080, hostIP: 0.0.0.0, mode: host }")[0]).toContain(
      "BERTH_POLICY spec.ports[0].hostIP: publishing on 0.0.0.0 is refused (loopback only)",
    );
  });

  it("refuses global with replicas or suspended under swarm", () => {
    expect(issues(["global: true", "replicas: 2", "suspended: true"], "swarm")).toEqual([
      "8:13 BERTH_TARGET spec.replicas: not under --target swarm: a global service runs one task on every eligible node; remove replicas or global",
      "9:14 BERTH_TARGET spec.suspended: not under --target swarm: a global service cannot be scaled to 0; remove the spec's file to stop it, or make it replicated",
    ]);
    expect(issues(["global: true"], "swarm")).toEqual([]);
  });

  it("refuses placement under engine, and takes it under swarm", () => {
    const placement = ['placement: { constraints: ["node.role==manager"] }'];
    expect(issues(placement, "engine")).toEqual([
      "7:14 BERTH_TARGET spec.placement: placement is for --target swarm (Swarm's scheduler places tasks on nodes); --target engine runs every container on this host: remove it, or run berth with --target swarm",
    ]);
    expect(issues(placement, "swarm")).toEqual([]);
    expect(issues(['placement: { constraints: ["zone is a"] }'], "swarm")[0]).toContain(
      "spec.placement.constraints[0]",
    );
  });
});

describe("under swarm the policy checks what becomes the service", () => {
  const policyIssues = (extra: readonly string[], target: "engine" | "swarm") =>
    parseSpecText(specText("web", { image: IMAGE, extra }), "web.yaml", { ...DEFAULT_PARSE_OPTIONS, target })
      .issues.filter((i) => i.code === "BERTH_POLICY")
      .map((i) => `${i.path}: ${i.message}`);

  it("refuses a bind, a capability and a published port with the engine target's message", () => {
    for (const extra of [
      ["mounts: [{ type: bind, source: /etc, target: /host-etc }]"],
      ["securityContext: { capAdd: [SYS_ADMIN] }"],
      ["ports: [{ containerPort: 80, hostPort: 80, hostIP: 0.0.0.0 }]"],
    ]) {
      const engine = policyIssues(extra, "engine");
      expect(engine.length, extra.join()).toBeGreaterThan(0);
      expect(policyIssues(extra, "swarm")).toEqual(engine);
    }
  });

  it("checks the service body again, as the engine target checks its create body", () => {
    const d = swarmDesired("web", {
      extra: [
        "mounts: [{ type: tmpfs, target: /tmp }, { type: volume, source: data, target: /data }]",
        "securityContext: { capAdd: [NET_BIND_SERVICE], capDrop: [ALL] }",
        "ports: [{ containerPort: 80, hostPort: 18080, hostIP: 0.0.0.0 }]",
        "resources: { memory: 64Mi }",
      ],
    });
    const policy = { ...DEFAULT_PARSE_OPTIONS.policy, allowHostIPs: ["0.0.0.0"] };
    const body = serviceSpec(d, OPTIONS.owner);
    expect(checkService(body, policy, LEXICAL_CONTEXT)).toEqual([]);
    // What no accepted spec makes, as if a bug put it in the body: each refused by its check.
    const c = body.TaskTemplate.ContainerSpec;
    const risky = {
      ...body,
      TaskTemplate: {
        ...body.TaskTemplate,
        ContainerSpec: {
          ...c,
          Mounts: [...c.Mounts, { Type: "bind" as const, Source: "/etc", Target: "/host-etc", ReadOnly: true }],
          CapabilityAdd: ["CAP_SYS_ADMIN"],
        },
      },
      EndpointSpec: {
        Ports: [{ Protocol: "tcp" as const, TargetPort: 80, PublishedPort: 80, PublishMode: "ingress" as const }],
      },
    };
    expect(checkService(risky, policy, LEXICAL_CONTEXT)).toEqual([
      "bind-forbidden: bind mount of /etc",
      "default-capabilities: CapAdd SYS_ADMIN",
      "allowed-host-ports: host port 80",
    ]);
    // 0.0.0.0 is what a service publishes on: refused unless allowed.
    expect(checkService(body, DEFAULT_PARSE_OPTIONS.policy, LEXICAL_CONTEXT)).toEqual([
      "allowed-host-ip: host address 0.0.0.0",
    ]);
  });
});

describe("status from the tasks", () => {
  /** The status rows of these specs, each in a file of its own, with these services and tasks. */
  const statusOf = (specs: readonly Desired[], services: readonly ObservedService[], tasks: readonly ObservedTask[]) =>
    swarmStatus({
      records: new Map(
        specs.map((d) => [
          d.spec.name,
          {
            name: d.spec.name,
            spec: d.spec,
            file: `${d.spec.name}.yaml`,
            source: d.source,
            hash: d.hash,
            invalid: [],
            error: null,
          },
        ]),
      ),
      services,
      tasks,
      plan: planSwarm(input(specs), { services, secrets: [] }, NOW, OPTIONS),
      failures: new Map(),
      owner: OPTIONS.owner,
      now: NOW,
    });

  it("says desired vs running, on which nodes, the last task error, and a crash loop", () => {
    counter = 0;
    const specs = {
      up: desired("up", { replicas: 2 }),
      stuck: desired("stuck", { replicas: 2 }),
      rolling: desired("rolling"),
      paused: desired("paused"),
      off: desired("off", { extra: ["suspended: true"] }),
      old: desired("old", { extra: ['expiresAt: "2026-11-23T11:00:00Z"'] }),
      crashy: desired("crashy"),
    };
    const services = [
      service(specs.up),
      service(specs.stuck),
      service(specs.rolling, { updating: true }),
      service(specs.paused, { updateFailure: "update paused: task failed" }),
      service(specs.off),
      service(specs.crashy),
    ];
    const task = (serviceIndex: number, state: string, over: Partial<ObservedTask> = {}): ObservedTask => ({
      id: `task-${serviceIndex}-${state}`,
      slot: 1,
      serviceId: services[serviceIndex]?.id ?? "",
      node: "node-b",
      desiredState: "running",
      state,
      error: "",
      at: NOW,
      ...over,
    });
    const tasks = [
      task(0, "running", { node: "node-b" }),
      task(0, "running", { node: "node-a" }),
      task(1, "running"),
      task(1, "pending", { error: "no suitable node (insufficient resources on 2 nodes)", at: NOW - 1 }),
      task(2, "running"),
      // rolling: its second slot still of the old spec (Swarm's _up-to-date filter left it out).
      task(2, "running", { id: "task-2-old", slot: 2, outdated: true }),
      task(3, "running", { outdated: true }),
      // crashy: two exits in its history, and a task waiting out the restart delay.
      task(5, "failed", { desiredState: "shutdown", error: "task: non-zero exit (3)", at: NOW - 2 }),
      task(5, "failed", { desiredState: "shutdown", error: "task: non-zero exit (1)", at: NOW - 9 }),
      task(5, "ready", { desiredState: "ready" }),
    ];
    const rows = statusOf(Object.values(specs), services, tasks);
    expect(
      rows.map(
        (r) =>
          `${r.name} ${r.phase} ${r.running}/${r.desired} ${r.updated} updated [${r.nodes.join(",")}] ${r.message} | ${r.lastError ?? "-"}`,
      ),
    ).toEqual([
      "crashy Pending 0/1 1 updated [] 0/1 tasks running; crash loop: 2 tasks failed (in Swarm's task history) | task: non-zero exit (3)",
      "off Suspended 0/0 0 updated [] scaled to 0 | -",
      "old Expired 0/0 0 updated [] expired | -",
      "paused Failed 1/1 0 updated [node-b] update paused: task failed | -",
      "rolling Updating 2/1 1 updated [node-b] rolling update, 2/1 tasks running | -",
      "stuck Pending 1/2 2 updated [node-b] 1/2 tasks running | no suitable node (insufficient resources on 2 nodes)",
      "up Running 2/2 2 updated [node-a,node-b] 2/2 tasks running | -",
    ]);
  });

  it("lists each service's tasks as docker service ps does: by slot, the wanted one first, then the older newest first", () => {
    counter = 0;
    const specs = { web: desired("web", { replicas: 2 }), agent: swarmDesired("agent", { extra: ["global: true"] }) };
    const services = [service(specs.web), service(specs.agent)];
    const t = (id: string, over: Partial<ObservedTask>): ObservedTask => ({
      id,
      slot: 1,
      serviceId: services[0]?.id ?? "",
      node: "node-a",
      desiredState: "shutdown",
      state: "shutdown",
      error: "",
      at: NOW,
      ...over,
    });
    const tasks = [
      t("w1-old", { state: "failed", error: "task: non-zero exit (1)", at: NOW - 60_000 }),
      t("w2-new", { slot: 2, desiredState: "running", state: "running", node: "node-b" }),
      t("w1-new", { desiredState: "ready", state: "ready", at: NOW - 61_000 }),
      t("w1-older", { state: "failed", error: "task: non-zero exit (2)", at: NOW - 120_000 }),
      t("w10", { slot: 10, desiredState: "running", state: "pending", node: "", error: "no suitable node", at: 0 }),
      t("a-b", {
        slot: null,
        serviceId: services[1]?.id ?? "",
        node: "node-b",
        desiredState: "running",
        state: "running",
      }),
      t("a-a-old", { slot: null, serviceId: services[1]?.id ?? "", state: "complete", at: NOW - 5_000 }),
      t("a-a", { slot: null, serviceId: services[1]?.id ?? "", desiredState: "running", state: "running" }),
    ];
    const rows = statusOf(Object.values(specs), services, tasks);
    const show = (name: string) =>
      rows
        .find((r) => r.name === name)
        ?.tasks.map((x) =>
          `${x.id} ${x.slot ?? "-"} ${x.node || "?"} ${x.desiredState}/${x.state} ${x.since ?? "-"} ${x.error ?? ""}`.trim(),
        );
    expect(show("web")).toEqual([
      "w1-new 1 node-a ready/ready 2026-11-23T11:58:59.000Z",
      "w1-old 1 node-a shutdown/failed 2026-11-23T11:59:00.000Z task: non-zero exit (1)",
      "w1-older 1 node-a shutdown/failed 2026-11-23T11:58:00.000Z task: non-zero exit (2)",
      "w2-new 2 node-b running/running 2026-11-23T12:00:00.000Z",
      "w10 10 ? running/pending - no suitable node",
    ]);
    expect(show("agent")).toEqual([
      "a-a - node-a running/running 2026-11-23T12:00:00.000Z",
      "a-a-old - node-a shutdown/complete 2026-11-23T11:59:55.000Z",
      "a-b - node-b running/running 2026-11-23T12:00:00.000Z",
    ]);
  });
});
