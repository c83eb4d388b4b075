/**
 * Canaries under swarm through the real swarm reconciler (loop/swarm-reconciler.ts) on the
 * in-memory Swarm fake: the canaries' service is made with its own name, label, alias and size;
 * a canaries' name held by a service berth does not own is a Conflict, and that service is never
 * written to.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeSwarm } from "../../support/fake-swarm.js";
import { specText } from "../../support/specs.js";
import { SWARM_KEYS, swarmReconciler } from "../../support/swarm-reconciler.js";
import { tempDir } from "../../support/tmp.js";

const web = (version: string, extra: readonly string[] = []) =>
  specText("web", { replicas: 3, extra: [`env: { V: ${version} }`, ...extra] });

describe("canaries under swarm, through the reconciler", () => {
  it("makes NAME_canary of the new version beside the held service, and leaves a stranger's NAME_canary alone", async () => {
    const dir = tempDir("berth-swarm-canary-");
    const file = path.join(dir, "web.yaml");
    writeFileSync(file, web("one"));
    const clock = new FakeClock();
    const swarm = new FakeSwarm();
    const reconciler = swarmReconciler(new SpecLoader([dir]), swarm, clock);
    await reconciler.pass({ act: true });
    const own = swarm.idOf("web");

    // StopFirst: the held service is scaled down at once, beside the canaries' service made.
    writeFileSync(file, web("two", ["updatePartition: 2", "updateStrategy: StopFirst", "network: backend"]));
    await reconciler.pass({ act: true });
    expect(swarm.names()).toEqual(["web", "web_canary"]);
    expect(swarm.idOf("web")).toBe(own);
    expect(swarm.specOf("web")?.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(swarm.specOf("web")?.TaskTemplate.ContainerSpec.Env).toEqual(["V=one"]);
    const canary = swarm.specOf("web_canary");
    expect(canary?.Labels).toMatchObject({ [SWARM_KEYS.spec]: "web", [SWARM_KEYS.canary]: "true" });
    expect(canary?.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(canary?.TaskTemplate.ContainerSpec.Env).toEqual(["V=two"]);
    expect(canary?.TaskTemplate.Networks).toEqual([{ Target: "backend", Aliases: ["web"] }]);

    // Another's service under the canaries' name: a Conflict, never written to.
    swarm.kill("web_canary");
    const stranger = swarm.add({ name: "web_canary", labels: { "com.example": "theirs" } });
    const version = swarm.services.get(stranger)?.version;
    const result = await reconciler.pass({ act: true });
    expect(result.status.find((s) => s.name === "web")).toMatchObject({ phase: "Conflict" });
    expect(result.plan.notes).toContainEqual({ kind: "conflict", spec: "web", service: stranger });
    expect(swarm.services.get(stranger)?.version).toBe(version);
    expect(swarm.services.get(stranger)?.spec.Labels).toEqual({ "com.example": "theirs" });
  });
});
