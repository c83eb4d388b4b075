/**
 * `berth run --target swarm`'s HTTP API and live status (docs/swarm.md, "HTTP API"), end to end
 * through the built CLI, on a single-node swarm in a private dockerd (as swarm.test.ts: its own
 * network namespace, `swarm init --advertise-addr 127.0.0.1`; never the shared engine):
 * - /readyz is ready after the first pass; /v1/specs shows the service with its replicas running,
 *   /v1/specs/{name}/rollout its verdict (with stableFor, its tasks' time up);
 *   and the overlay network berth made, in use; a network the engine cannot make (no such driver)
 *   and one the manager takes but cannot allocate (its subnet is taken) are Failed, and say why;
 *   /metrics has the pass series and the services'; /v1/events the service's create;
 * - the container, node and compat routes answer 501 naming the target (401 first without the token);
 * - with --runtime-specs, PUT /v1/specs/{name} makes a service and updates it, a spec that is not
 *   valid is refused (400) with nothing written, and DELETE removes the services even past the
 *   prune guard (they were deleted on purpose);
 * - with a resync of an hour, a service scaled or removed by hand is put back at once (the
 *   manager's service events ask for the pass);
 * - `berth status --target swarm` reads the live controller (it says so) and lists the network;
 * - SIGTERM ends run cleanly (exit 0);
 * - pointed at an engine that is not a swarm manager (the shared one: only read), /readyz is 503
 *   and says why.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, specDir, startBerth, TEST_IMAGE, testId } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import type { PrivateDockerd } from "../support/private-dockerd.js";
import { startPrivateSwarm } from "../support/private-swarm.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

let daemon: PrivateDockerd;

beforeAll(async () => {
  daemon = await startPrivateSwarm([TEST_IMAGE]);
}, 120_000);
afterAll(async () => {
  // destroy removes the private daemon with its swarm: every service and network in it is this file's.
  await daemon.destroy();
}, 60_000);

const TOKEN = `swarm-api-token-${process.pid}-0123456789`;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

async function call(url: string, method = "GET", headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // /metrics is text
  }
  return { status: res.status, body, text };
}

interface SpecView {
  readonly name: string;
  readonly phase: string;
  readonly running: number;
  readonly desired: number;
  readonly nodes: string[];
}
interface NetworkView {
  readonly name: string;
  readonly state: string;
  readonly driver: string;
  readonly scope: string | null;
  readonly inUse: boolean;
  readonly usedBy: string[];
}

describe("berth run --target swarm serves the HTTP API", () => {
  it("answers readiness, status with replicas and networks, metrics and events; refuses what swarm has not", async () => {
    const id = testId("swarm-api");
    const [service, network, broken, overlap] = [`${id}-web`, `${id}-net`, `${id}-broken`, `${id}-overlap`];
    // A network berth does not own holds a subnet; berth's `overlap` asks for the same one.
    const subnet = "10.231.7.0/24";
    await daemon.docker.createNetwork({
      Name: `${id}-holder`,
      Driver: "overlay",
      IPAM: { Driver: "default", Config: [{ Subnet: subnet }] },
    });
    const dir = specDir({
      "web.yaml": specText(service, {
        image: TEST_IMAGE,
        replicas: 2,
        extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", `network: ${network}`],
      }),
      "net.yaml": ["apiVersion: berth/v1", "kind: Network", "metadata:", `  name: ${network}`, ""].join("\n"),
      "overlap.yaml": [
        "apiVersion: berth/v1",
        "kind: Network",
        "metadata:",
        `  name: ${overlap}`,
        "spec:",
        `  subnet: ${subnet}`,
        "",
      ].join("\n"),
      "broken.yaml": [
        "apiVersion: berth/v1",
        "kind: Network",
        "metadata:",
        `  name: ${broken}`,
        "spec:",
        "  driver: no-such-plugin",
        "",
      ].join("\n"),
    });
    const env = {
      DOCKER_HOST: daemon.dockerHost,
      BERTH_STATE_DIR: path.join(daemon.dir, "state"),
      BERTH_API_TOKEN: TOKEN,
    };
    const run = await startBerth(["--target", "swarm", "--id", id, "-f", dir, "--resync", "2s"], env);
    try {
      const api = run.url;
      expect(api, run.recentLogs()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ready = await pollValue(
        () => call(`${api}/readyz`),
        (a) => a.status === 200,
        60_000,
        200,
      );
      expect(ready.body, run.recentLogs()).toMatchObject({ ready: true, reason: null });

      const status = await pollValue(
        () => call(`${api}/v1/specs`),
        (a) => ((a.body.specs ?? []) as SpecView[]).some((s) => s.name === service && s.phase === "Running"),
        60_000,
        300,
      );
      expect(status.body, run.recentLogs()).toMatchObject({ controller: id, target: "swarm" });
      const spec = (status.body.specs as SpecView[]).find((s) => s.name === service);
      expect(spec).toMatchObject({ phase: "Running", running: 2, desired: 2, nodes: [expect.any(String)] });
      expect(status.body.networks as NetworkView[]).toEqual([
        // The engine cannot make it (no such driver plugin): Failed, in the engine's words, not Pending for ever.
        expect.objectContaining({
          name: broken,
          state: "Failed",
          message: expect.stringMatching(/no-such-plugin.* not found.*\(tried again at the next pass\)$/),
          inUse: false,
        }),
        expect.objectContaining({
          name: network,
          state: "Ready",
          driver: "overlay",
          scope: "swarm",
          inUse: true,
          usedBy: [service],
        }),
        // The manager took it but could not allocate it (the subnet is taken): Failed, not Ready.
        expect.objectContaining({
          name: overlap,
          state: "Failed",
          message: expect.stringContaining("has not allocated it"),
          driver: "overlay",
        }),
      ]);
      const one = await call(`${api}/v1/specs/${service}`);
      expect([one.status, one.body.running]).toEqual([200, 2]);
      // berth rollout status in one look: Swarm's update state; with stableFor, its tasks listed now.
      const rollout = await call(`${api}/v1/specs/${service}/rollout`);
      expect([rollout.status, rollout.body]).toEqual([
        200,
        expect.objectContaining({
          state: "complete",
          line: `${service}: rolled out: 2 of 2 tasks updated, 2 running`,
          phase: "Running",
          tasks: { running: 2, desired: 2, updated: 2 },
        }),
      ]);
      const stable = await call(`${api}/v1/specs/${service}/rollout?stableFor=1h`);
      expect(stable.body).toMatchObject({
        state: "waiting",
        line: expect.stringMatching(
          new RegExp(
            `^${service}: rolled out; waiting until ${service}\\.1 and ${service}\\.2 have stayed up 1h \\(\\S+Z\\)$`,
          ),
        ),
      });

      const metrics = (await call(`${api}/metrics`)).text;
      expect(metrics).toMatch(/^berth_reconciles_total\{result="ok"\} [1-9]\d*$/m);
      expect(metrics).toMatch(/^berth_reconcile_duration_seconds_count [1-9]\d*$/m);
      expect(metrics).toContain('berth_specs{phase="Running"} 1\n');
      expect(metrics).toContain("berth_managed_services 1\n");
      expect(metrics).toContain('berth_service_replicas{state="running"} 2\n');
      expect(metrics).toContain('berth_actions_total{kind="create",reason="not_found",outcome="ok"} 1\n');
      expect(metrics).toContain('berth_actions_total{kind="create-network",reason="not_found",outcome="ok"} 2\n');
      expect(metrics).toMatch(
        /^berth_actions_total\{kind="create-network",reason="not_found",outcome="error"\} [1-9]/m,
      );
      expect(metrics).toMatch(/^berth_docker_calls_total\{operation="\w+",outcome="ok"\} [1-9]/m);
      // Containers are the engine target's series; under swarm they are not offered at all.
      expect(metrics).not.toContain("berth_managed_containers");

      const events = (await call(`${api}/v1/events?spec=${service}`)).body.events as { kind: string; text: string }[];
      expect(events.map((e) => [e.kind, e.text])).toContainEqual(["create", `create  service ${service}: not found`]);

      // A write without the token is refused before anything; with it, the target says why not.
      expect((await call(`${api}/v1/containers/${service}/exec`, "POST")).status).toBe(401);
      const auth = { authorization: `Bearer ${TOKEN}` };
      for (const [method, route] of [
        ["POST", `/v1/containers/${service}/exec`],
        ["GET", `/v1/containers/${service}/logs`],
        ["GET", "/v1/node"],
        ["POST", "/v1/pools/x/claims"],
        ["POST", "/spawn"],
      ] as const) {
        const a = await call(`${api}${route}`, method, auth);
        expect([route, a.status, a.body.target]).toEqual([route, 501, "swarm"]);
        expect(String(a.body.error)).toContain("--target");
      }

      // berth status reads the live controller, and says so; --server off works it out itself.
      const common = ["--target", "swarm", "--id", id, "-f", dir];
      const live = await berth(["status", ...common, "--server", api], env);
      expect([live.code, live.stderr]).toEqual([0, expect.stringContaining(`live from the controller at ${api}`)]);
      expect(live.stdout).toMatch(new RegExp(`^${service}\\s+Running\\s+2/2`, "m"));
      expect(live.stdout).toMatch(new RegExp(`^${network}\\s+Ready\\s+overlay\\s+swarm\\s+${service}`, "m"));
      expect(live.stdout).toMatch(new RegExp(`^${broken}\\s+Failed\\s+no-such-plugin\\b.*not found`, "m"));
      const json = await berth(["status", ...common, "--server", api, "-o", "json"], env);
      expect(JSON.parse(json.stdout)).toMatchObject({
        specs: [expect.objectContaining({ name: service, running: 2 })],
        networks: [
          expect.objectContaining({ name: broken }),
          expect.objectContaining({ name: network, inUse: true }),
          expect.objectContaining({ name: overlap, state: "Failed" }),
        ],
      });
      const local = await berth(["status", ...common, "--server", "off"], env);
      expect(local.stderr).not.toContain("live from the controller");
      expect(local.stdout).toMatch(new RegExp(`^${network}\\s+Ready\\s+overlay\\s+swarm`, "m"));
    } finally {
      expect(await run.stop()).toBe(0);
    }
    expect(run.logs.some((l) => l.msg === "controller stopped")).toBe(true);
  }, 150_000);

  it("with --runtime-specs, makes, updates and removes services from specs written through the API", async () => {
    const id = testId("swarm-rt");
    const [web, agent1, agent2] = [`${id}-web`, `${id}-agent-1`, `${id}-agent-2`];
    const runtime = tempDir("berth-swarm-rt-");
    const dir = specDir({ "web.yaml": specText(web, { extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s"] }) });
    const env = {
      DOCKER_HOST: daemon.dockerHost,
      BERTH_STATE_DIR: path.join(daemon.dir, "state"),
      BERTH_API_TOKEN: TOKEN,
    };
    // A resync of an hour: only the writes (and the watch) explain a pass.
    const run = await startBerth(
      ["--target", "swarm", "--id", id, "-f", dir, "--runtime-specs", runtime, "--resync", "1h"],
      env,
    );
    const services = async (): Promise<Record<string, string>> => {
      const list = await daemon.docker.listServices({ filters: { label: [`berth.controller=${id}`] } });
      const modeOf = (env: string[] | undefined): string => env?.find((e) => e.startsWith("MODE=")) ?? "";
      return Object.fromEntries(
        list.map((s) => {
          const task = s.Spec?.TaskTemplate as { ContainerSpec?: { Env?: string[] } } | undefined;
          return [s.Spec?.Name ?? "", modeOf(task?.ContainerSpec?.Env)];
        }),
      );
    };
    try {
      await pollValue(
        () => call(`${run.url}/readyz`),
        (a) => a.status === 200,
        60_000,
        200,
      );
      const put = (name: string, text: string) =>
        fetch(`${run.url}/v1/specs/${name}`, {
          method: "PUT",
          headers: { "content-type": "application/yaml", authorization: `Bearer ${TOKEN}` },
          body: text,
        });
      const agent = (name: string, mode: string) =>
        specText(name, { extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", `env: { MODE: ${mode} }`] });
      expect((await put(agent1, agent(agent1, "one"))).status).toBe(201);
      expect((await put(agent2, agent(agent2, "one"))).status).toBe(201);
      // Refused before anything is written: no file, no service.
      const bad = await put(`${id}-bad`, specText(`${id}-bad`, { extra: ["replicas: -1"] }));
      expect(bad.status).toBe(400);
      expect(existsSync(path.join(runtime, `${id}-bad.yaml`))).toBe(false);
      expect(await pollValue(services, (s) => Object.keys(s).length === 3, 60_000, 200), run.recentLogs()).toEqual({
        [web]: "",
        [agent1]: "MODE=one",
        [agent2]: "MODE=one",
      });

      // A changed spec updates its service in place.
      expect((await put(agent1, agent(agent1, "two"))).status).toBe(200);
      expect(await pollValue(services, (s) => s[agent1] === "MODE=two", 60_000, 200)).toMatchObject({
        [agent1]: "MODE=two",
      });

      // Both agents deleted: 2 of 3 services, past --prune-max-share 0.5, yet they go, as deleted on purpose.
      for (const name of [agent1, agent2]) {
        const del = await fetch(`${run.url}/v1/specs/${name}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(del.status).toBe(200);
      }
      expect(await pollValue(services, (s) => Object.keys(s).length === 1, 60_000, 200), run.recentLogs()).toEqual({
        [web]: "",
      });
      const events = (await call(`${run.url}/v1/events?spec=${agent2}`)).body.events as {
        kind: string;
        text: string;
      }[];
      expect(events.map((e) => e.text)).toContainEqual(
        expect.stringMatching(new RegExp(`^remove  service ${agent2} .*: deleted$`)),
      );
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 150_000);

  it("puts back a service scaled or removed by hand at once, from the manager's service events", async () => {
    const id = testId("swarm-ev");
    const name = `${id}-web`;
    const dir = specDir({ "web.yaml": specText(name, { extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s"] }) });
    const env = { DOCKER_HOST: daemon.dockerHost, BERTH_STATE_DIR: path.join(daemon.dir, "state") };
    // A resync of an hour: only an event explains a pass after the first.
    const run = await startBerth(["--target", "swarm", "--id", id, "-f", dir, "--resync", "1h"], env);
    const service = async (): Promise<{ id: string; replicas: number } | null> => {
      const [s] = await daemon.docker.listServices({ filters: { label: [`berth.controller=${id}`] } });
      return s ? { id: s.ID ?? "", replicas: s.Spec?.Mode?.Replicated?.Replicas ?? -1 } : null;
    };
    /**
     * Until the last pass saw the service Running at 1 replica: that pass changed nothing and saw
     * nothing settling, so the next comes in an hour, unless an event asks for one.
     */
    const idle = () =>
      pollValue(
        () => call(`${run.url}/v1/specs/${name}`),
        (a) => a.body.phase === "Running" && a.body.desired === 1,
        30_000,
        100,
      );
    try {
      const made = await pollValue(service, (s) => s !== null, 60_000, 200);
      if (made === null) throw new Error(run.recentLogs());
      await idle();
      // Scaled to 3 by hand (docker service scale): back to the spec's 1.
      const handle = daemon.docker.getService(made.id);
      const info = (await handle.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
      await handle.update({ ...info.Spec, version: info.Version.Index, Mode: { Replicated: { Replicas: 3 } } });
      // (Not read back here: the update's event wakes berth at once, and it may have scaled back
      // already. The "scale replicas changed" line below says it saw 3.)
      expect(await pollValue(service, (s) => s?.replicas === 1, 30_000, 100), run.recentLogs()).toMatchObject({
        id: made.id,
        replicas: 1,
      });
      await idle();
      // Removed by hand (docker service rm): made again.
      await handle.remove();
      const again = await pollValue(service, (s) => s !== null && s.id !== made.id, 30_000, 100);
      expect(again, run.recentLogs()).toMatchObject({ replicas: 1 });
      // berth logs the change after the engine's answer to its create: the service can show first.
      const changed = () =>
        run.logs.filter((l) => l.msg === "service changed").map((l) => `${String(l.action)} ${String(l.reason)}`);
      expect(await pollValue(changed, (l) => l.length >= 3, 10_000, 50)).toEqual([
        "create not found",
        "scale replicas changed",
        "create not found",
      ]);
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 150_000);

  it("is not ready on an engine that is not a swarm manager, and says why", async () => {
    const id = testId("swarm-api-nomgr");
    // The shared engine is no swarm manager: berth only lists there (every list fails), and makes nothing.
    const dir = specDir({ "x.yaml": specText(`${id}-x`, { extra: ['command: ["sleep", "3600"]'] }) });
    const run = await startBerth(["--target", "swarm", "--id", id, "-f", dir, "--resync", "1m"]);
    try {
      const answer = await pollValue(
        () => call(`${run.url}/readyz`),
        (a) => a.status === 503 && a.body.reason !== "first reconcile not done",
        30_000,
        200,
      );
      expect(String(answer.body.reason), run.recentLogs()).toMatch(/not a swarm manager/);
      expect((await call(`${run.url}/v1/specs`)).status).toBe(503);
      expect(await call(`${run.url}/healthz`)).toMatchObject({ status: 200 });
    } finally {
      expect(await run.stop()).toBe(0);
    }
  }, 60_000);
});
