/**
 * Golden planner tests for declared networks and volumes (`kind: Network`, `kind: Volume`): a
 * desired state and an observed host → the exact rendered plan.
 */
import { describe, expect, it } from "vitest";
import { type DeclaredObject, objectHash, objectLabels } from "../../../src/core/declared.js";
import type { ObservedNetwork, ObservedState, ObservedVolume } from "../../../src/core/observed.js";
import { type DesiredObject, type PlanInput, type PlanOptions, plan } from "../../../src/core/plan/plan.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import {
  CONTROLLER,
  container,
  declaredNetwork,
  desired,
  input,
  KEYS,
  observed,
  OPTIONS,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

const network = declaredNetwork;

function volume(name: string, options: Record<string, string> = {}): DesiredObject {
  const object: DeclaredObject = { kind: "Volume", name, labels: {}, driver: "local", options };
  return { object, hash: objectHash(object), source: "objects.yaml" };
}

const labelsOf = (d: DesiredObject, hash = d.hash): Record<string, string> =>
  objectLabels(d.object, hash, d.source, KEYS, CONTROLLER);

/** The network of `d` as the engine lists it: berth's (its labels), with these containers attached. */
function seenNetwork(d: DesiredObject, containers: string[] = [], hash?: string): ObservedNetwork {
  return {
    id: `net-${d.object.name}`,
    name: d.object.name,
    driver: "bridge",
    scope: "local",
    labels: labelsOf(d, hash),
    options: {},
    internal: false,
    attachable: false,
    containers,
  };
}

function foreignNetwork(name: string, containers: string[] = []): ObservedNetwork {
  return {
    id: `net-${name}`,
    name,
    driver: "bridge",
    scope: "local",
    labels: {},
    options: {},
    internal: false,
    attachable: false,
    containers,
  };
}

function seenVolume(d: DesiredObject, hash?: string): ObservedVolume {
  return { name: d.object.name, driver: "local", labels: labelsOf(d, hash), options: {} };
}

const ENGINE_NETWORKS = ["bridge", "host", "none"].map((n) => foreignNetwork(n));

function host(
  base: ObservedState,
  networks: readonly ObservedNetwork[] = [],
  volumes: readonly ObservedVolume[] = [],
): ObservedState {
  return { ...base, networks: [...ENGINE_NETWORKS, ...networks], volumes };
}

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly options?: Partial<PlanOptions>;
  readonly expected: string;
}

const onNet = () => desired("web", { extra: ["network: tidepool"] });
const withData = () => desired("web", { extra: ["mounts:", "  - { type: volume, source: data, target: /data }"] });

const cases: Record<string, () => Case> = {
  "a declared network and volume that are missing are created": () => ({
    input: input([], { objects: [network("tidepool"), volume("data")] }),
    observed: host(observed([])),
    expected: "create  network tidepool: not found\ncreate  volume data: not found\n",
  }),
  "declared objects that exist as declared need nothing": () => {
    const n = network("tidepool");
    const v = volume("data");
    return {
      input: input([], { objects: [n, v] }),
      observed: host(observed([]), [seenNetwork(n)], [seenVolume(v)]),
      expected: "nothing to do\n",
    };
  },
  "a container waits for the declared network it names (Pending)": () => ({
    input: input([onNet()], { objects: [network("tidepool")] }),
    observed: host(observed([])),
    expected:
      "create  network tidepool: not found\n! web: waits for network tidepool, which berth creates first (Pending)\n",
  }),
  "a container waits for the declared volume it mounts (Pending)": () => ({
    input: input([withData()], { objects: [volume("data")] }),
    observed: host(observed([])),
    expected: "create  volume data: not found\n! web: waits for volume data, which berth creates first (Pending)\n",
  }),
  "a container on a declared network that exists is created": () => {
    const n = network("tidepool");
    return {
      input: input([onNet()], { objects: [n] }),
      observed: host(observed([]), [seenNetwork(n)]),
      expected: "create  web: not found\n",
    };
  },
  "a container waits for a declared extra network, and fails on an undeclared one": () => {
    const n = network("tidepool");
    const both = desired("web", { extra: ["network: tidepool", "extraNetworks: [metrics, backend]"] });
    return {
      input: input([both], { objects: [n, network("metrics")] }),
      observed: host(observed([]), [seenNetwork(n)]),
      expected:
        "create  network metrics: not found\n! web: network backend does not exist and no kind: Network document declares it; declare it (kind: Network, metadata.name: backend) or create it (Failed)\n",
    };
  },
  "a container whose extra networks exist is created": () => {
    const n = network("tidepool");
    const both = desired("web", { extra: ["extraNetworks: [tidepool]"] });
    return {
      input: input([both], { objects: [n] }),
      observed: host(observed([]), [seenNetwork(n)]),
      expected: "create  web: not found\n",
    };
  },
  "a container naming an undeclared, missing network fails with a clear message": () => ({
    input: input([onNet()]),
    observed: host(observed([])),
    expected:
      "! web: network tidepool does not exist and no kind: Network document declares it; declare it (kind: Network, metadata.name: tidepool) or create it (Failed)\n",
  }),
  "a container naming an undeclared network that exists (not berth's) is created": () => ({
    input: input([onNet()]),
    observed: host(observed([]), [foreignNetwork("tidepool")]),
    expected: "create  web: not found\n",
  }),
  "a network of the declared name that berth does not own is reported, never touched": () => ({
    input: input([], { objects: [network("tidepool")] }),
    observed: host(observed([]), [foreignNetwork("tidepool", ["someone"])]),
    expected:
      "! network tidepool: a network of this name exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document) (Conflict)\n",
  }),
  "another controller's network of that name is not ours either": () => {
    const n = network("tidepool");
    const theirs = { ...seenNetwork(n), labels: { ...labelsOf(n), [KEYS.controller]: "other" } };
    return {
      input: input([], { objects: [n] }),
      observed: host(observed([]), [theirs]),
      expected:
        "! network tidepool: a network of this name exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document) (Conflict)\n",
    };
  },
  "a drifted network nobody uses is recreated": () => {
    const n = network("tidepool", { internal: true });
    return {
      input: input([], { objects: [n] }),
      observed: host(observed([]), [seenNetwork(n, [], "old")]),
      expected: "remove  network tidepool: config changed\ncreate  network tidepool: config changed\n",
    };
  },
  "a drifted network in use is reported, not recreated, and its containers are not held back": () => {
    const n = network("tidepool", { internal: true });
    const d = onNet();
    return {
      input: input([d], { objects: [n] }),
      observed: host(observed([container(d, { hash: "old" })]), [seenNetwork(n, ["web"], "old")]),
      expected:
        "replace web [0001aaaabbbb] StartFirst: hash changed\n! network tidepool: drift: the declared config changed; recreate when unused (used by web)\n",
    };
  },
  "a drifted volume is reported, never recreated (its data)": () => {
    const v = volume("data", { type: "tmpfs", device: "tmpfs" });
    return {
      input: input([], { objects: [v] }),
      observed: host(observed([]), [], [seenVolume(v, "old")]),
      expected:
        "! volume data: drift: the declared config changed; a volume is never recreated by berth (its data would be lost): remove it by hand once unused and berth creates it anew\n",
    };
  },
  "a network whose document is gone is removed when unused": () => {
    const keep = network("keep");
    return {
      input: input([], { objects: [keep] }),
      observed: host(observed([]), [seenNetwork(keep), seenNetwork(network("old"))]),
      expected: "remove  network old: orphaned\n",
    };
  },
  "a network whose document is gone is kept while a container uses it (any container)": () => {
    const keep = network("keep");
    return {
      input: input([], { objects: [keep] }),
      observed: host(observed([]), [seenNetwork(keep), seenNetwork(network("old"), ["not-berths"])]),
      expected:
        "! network old: its document is gone, but it is kept while containers use it (not-berths); removed once unused\n",
    };
  },
  "a volume whose document is gone is kept while berth's container mounts it": () => {
    const keep = volume("keep");
    const d = withData();
    const user = { ...container(d), mounts: [{ type: "volume", source: "data", target: "/data", rw: true }] };
    return {
      input: input([d], { objects: [keep] }),
      observed: host(observed([user]), [], [seenVolume(keep), seenVolume(volume("data"))]),
      expected:
        "! volume data: its document is gone, but it is kept while containers use it (web); removed once unused\n",
    };
  },
  "a volume whose document is gone is removed when unused": () => {
    const keep = volume("keep");
    return {
      input: input([], { objects: [keep] }),
      observed: host(observed([]), [], [seenVolume(keep), seenVolume(volume("old"))]),
      expected: "remove  volume old: orphaned\n",
    };
  },
  "pruning objects pauses when the spec folder is empty": () => ({
    input: input([], { prunePaused: "no spec files in /specs" }),
    observed: host(observed([]), [seenNetwork(network("old"))]),
    expected: "! prune paused: no spec files in /specs; kept without a document: network old\n",
  }),
  "pruning objects pauses past the share limit": () => ({
    input: input([], { objects: [volume("keep")] }),
    observed: host(observed([]), [seenNetwork(network("a")), seenNetwork(network("b"))], [seenVolume(volume("keep"))]),
    expected:
      "! prune paused: 2 of 3 declared networks and volumes have no document, more than 50%; nothing is removed (use --force-prune if this is intended): network a, network b\n",
  }),
  "--force-prune removes past the share limit": () => ({
    input: input([], { objects: [volume("keep")] }),
    observed: host(observed([]), [seenNetwork(network("a")), seenNetwork(network("b"))], [seenVolume(volume("keep"))]),
    options: { forcePrune: true },
    expected: "remove  network a: orphaned\nremove  network b: orphaned\n",
  }),
  "an object from a file that is now invalid is never pruned": () => ({
    input: input([], { protectedSources: new Set(["objects.yaml"]), objects: [volume("keep")] }),
    observed: host(observed([]), [seenNetwork(network("old"))], [seenVolume(volume("keep"))]),
    expected: "nothing to do\n",
  }),
  "an object declared twice is neither created nor pruned": () => ({
    input: input([], { protectedObjects: new Set(["network:twice"]) }),
    observed: host(observed([]), [seenNetwork(network("twice"))]),
    expected: "nothing to do\n",
  }),
  "networks without berth's labels are never pruned": () => ({
    input: input([]),
    observed: host(observed([]), [foreignNetwork("theirs")]),
    expected: "nothing to do\n",
  }),
};

describe("golden plans: declared networks and volumes", () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      const p = plan(c.input, c.observed, NOW, { ...OPTIONS, ...c.options });
      expect(renderPlan(p)).toBe(c.expected);
    });
  }

  it("plans nothing for objects when networks and volumes were not observed", () => {
    const p = plan(input([onNet()], { objects: [network("tidepool")] }), observed([]), NOW, OPTIONS);
    expect(renderPlan(p)).toBe("create  web: not found\n");
  });
});
