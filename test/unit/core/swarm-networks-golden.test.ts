/**
 * Golden tests of `kind: Network` under `--target swarm` (core/swarm-networks.ts): a declared
 * network is an overlay network (bridge, the default, becomes overlay; always attachable); the
 * services that name a network are its users; the engine target's object plan does the rest
 * (create, recreate when unused, prune under the guard, never a network berth does not own); a
 * `kind: Volume` document is named in a note, never dropped silently.
 */
import { describe, expect, it } from "vitest";
import { type DeclaredObject, objectHash, objectLabels } from "../../../src/core/declared.js";
import type { ObservedNetwork } from "../../../src/core/observed.js";
import type { DesiredObject, PlanInput } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import { overlayNetwork, planSwarmNetworks, swarmNetworkStatuses } from "../../../src/core/swarm-networks.js";
import { ownership } from "../../../src/core/ownership.js";
import type { ObservedService } from "../../../src/core/swarm-plan.js";
import { CONTROLLER, declaredNetwork, KEYS, OPTIONS } from "../../support/plan-fixtures.js";

type Network = DeclaredObject & { kind: "Network" };

const network = declaredNetwork;

/** The overlay network berth made for `d` (its labels as the swarm path writes them). */
function made(d: DesiredObject, over: Partial<ObservedNetwork> = {}): ObservedNetwork {
  const object = d.object.kind === "Network" ? overlayNetwork(d.object) : d.object;
  return {
    id: `id-${d.object.name}`,
    name: d.object.name,
    driver: "overlay",
    scope: "swarm",
    labels: objectLabels(object, objectHash(object), d.source, KEYS, CONTROLLER),
    options: {},
    internal: false,
    attachable: true,
    containers: [],
    ...over,
  };
}

function service(name: string, networks: string[]): ObservedService {
  return {
    id: `svc-${name}`,
    name,
    version: 1,
    labels: {},
    replicas: 1,
    updating: false,
    updateFailure: null,
    secretIds: [],
    networks,
  };
}

function input(objects: DesiredObject[], extra: Partial<PlanInput> = {}): PlanInput {
  return { desired: [], protectedSpecs: new Set(), protectedSources: new Set(), prunePaused: null, objects, ...extra };
}

const plan = (i: PlanInput, networks: ObservedNetwork[], services: ObservedService[] = [], options = {}) =>
  renderPlan(planSwarmNetworks(i, networks, services, { ...OPTIONS, ...options }));

describe("kind: Network under --target swarm", () => {
  it("is an overlay network, attachable, whatever the engine target's defaults", () => {
    const d = network("front");
    const swarm = d.object.kind === "Network" ? overlayNetwork(d.object) : null;
    expect(swarm).toMatchObject({ driver: "overlay", attachable: true });
    expect(overlayNetwork({ ...(d.object as Network), driver: "macvlan" }).driver).toBe("macvlan");
  });

  const front = network("front");
  const back = network("back");
  const cases: Record<string, [string, () => string]> = {
    "a missing network is created": ["create  network front: not found", () => plan(input([front]), [])],
    "a network as berth made it is left alone": ["", () => plan(input([front]), [made(front)])],
    "a network made from another config (the engine target's bridge) is recreated when no service uses it": [
      "remove  network front: config changed\ncreate  network front: config changed",
      () =>
        plan(input([front]), [
          made(front, { labels: objectLabels(front.object, front.hash, "objects.yaml", KEYS, CONTROLLER) }),
        ]),
    ],
    "a changed network a service joins (by ID) waits": [
      "! network front: drift: the declared config changed; recreate when unused (used by api)",
      () => plan(input([network("front", { internal: true })]), [made(front)], [service("api", ["id-front"])]),
    ],
    "a network berth does not own is never adopted": [
      "! network front: a network of this name exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document) (Conflict)",
      () => plan(input([front]), [made(front, { labels: {} })]),
    ],
    "a deleted document's network goes when no service joins it": [
      "remove  network back: orphaned",
      () => plan(input([front]), [made(front), made(back)]),
    ],
    "a deleted document's network stays while a service joins it": [
      "! network back: its document is gone, but it is kept while containers use it (api); removed once unused",
      () => plan(input([front]), [made(front), made(back)], [service("api", ["id-back"])]),
    ],
    "the prune guard holds": [
      "! prune paused: 2 of 2 declared networks and volumes have no document, more than 50%; nothing is removed (use --force-prune if this is intended): network front, network back",
      () => plan(input([]), [made(front), made(back)]),
    ],
    "a kind: Volume document is named, not made": [
      "! volume data: not made under --target swarm: a service's named volume is made by the engine of each node its tasks run on",
      () =>
        plan(
          input([
            {
              object: { kind: "Volume", name: "data", labels: {}, driver: "local", options: {} },
              hash: "h",
              source: "v.yaml",
            },
          ]),
          [],
        ),
    ],
  };
  for (const [name, [expected, run]] of Object.entries(cases)) {
    it(name, () => {
      expect(run()).toBe(expected === "" ? "nothing to do\n" : `${expected}\n`);
    });
  }
});

/** One line per network, as `berth status --target swarm` lists them: name, state, driver, scope, in use, message. */
function statusLines(
  i: PlanInput,
  networks: ObservedNetwork[],
  services: ObservedService[] = [],
  options = {},
  failures: ReadonlyMap<string, string> = new Map(),
): string {
  const p = planSwarmNetworks(i, networks, services, { ...OPTIONS, ...options });
  return swarmNetworkStatuses(i.objects, networks, services, p, ownership(KEYS, CONTROLLER), failures)
    .map(
      (n) =>
        `${n.name} ${n.state} ${n.driver} ${n.scope ?? "-"} ${n.inUse ? n.usedBy.join(",") : "unused"}${n.message ? `: ${n.message}` : ""}`,
    )
    .join("\n");
}

describe("the status of berth's networks under --target swarm", () => {
  const front = network("front");
  const back = network("back");
  const foreign = { ...made(network("other")), labels: {} };
  const cases: Record<string, [string, () => string]> = {
    "a missing network is Pending, with the driver it will have": [
      "front Pending overlay - unused",
      () => statusLines(input([front]), []),
    ],
    "a network as berth made it is Ready, in use by the services that name it (by ID or name)": [
      "front Ready overlay swarm api,web",
      () => statusLines(input([front]), [made(front)], [service("web", ["front"]), service("api", ["id-front"])]),
    ],
    "a Ready network no service joins is not in use": [
      "front Ready overlay swarm unused",
      () => statusLines(input([front]), [made(front)]),
    ],
    "a network of that name berth does not own is a Conflict": [
      "front Conflict overlay swarm unused: a network of this name exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document) (Conflict)",
      () => statusLines(input([front]), [made(front, { labels: {} })]),
    ],
    "a deleted document's network is Orphaned while a service joins it, and kept": [
      "back Orphaned overlay swarm api: its document is gone, but it is kept while containers use it (api); removed once unused\nfront Ready overlay swarm unused",
      () => statusLines(input([front]), [made(front), made(back)], [service("api", ["id-back"])]),
    ],
    "a network whose create failed in the pass is Failed, with the engine's words": [
      "front Failed overlay - unused: Pool overlaps with other one on this address space (tried again at the next pass)",
      () =>
        statusLines(
          input([front]),
          [],
          [],
          {},
          new Map([["network:front", "Pool overlaps with other one on this address space"]]),
        ),
    ],
    "a network the manager accepted but did not allocate (listed without a driver) is Failed, and says why": [
      "front Failed overlay swarm unused: the swarm manager accepted the network but has not allocated it (no driver, no addresses): a subnet that overlaps another network's does this, and its services' tasks cannot start; change the document (berth recreates it) or free the subnet",
      () => statusLines(input([front]), [made(front, { driver: "" })]),
    ],
    "an earlier failure of a network now Ready changes nothing": [
      "front Ready overlay swarm unused",
      () => statusLines(input([front]), [made(front)], [], {}, new Map([["network:front", "an old failure"]])),
    ],
    "networks that are not berth's and not declared are not listed": [
      "front Ready overlay swarm unused",
      () => statusLines(input([front]), [made(front), foreign]),
    ],
  };
  for (const [name, [expected, run]] of Object.entries(cases)) {
    it(name, () => {
      expect(run()).toBe(expected);
    });
  }
});
