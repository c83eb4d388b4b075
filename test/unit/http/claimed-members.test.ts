/**
 * Claimed pool members as the routes that find containers see them: Artie's creates served from
 * a pool (the host port GET shows, what `pool` says, a delete of one removed by hand) and the
 * native exec by a pool's spec name (src/http/routes/artie-compat.ts, containers.ts). The real
 * server and claims use case (src/ops/pools.ts) over an engine list held in memory and claim
 * records kept in memory.
 */
import { describe, expect, it } from "vitest";
import { labelKeys } from "../../../src/core/labels.js";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { ownership } from "../../../src/core/ownership.js";
import type { ClaimRecord } from "../../../src/core/pool.js";
import { ARTIE_NAME_LABEL } from "../../../src/http/routes/artie-compat.js";
import { buildServer } from "../../../src/http/server.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { ManagedContainers } from "../../../src/ops/containers.js";
import { EventLog } from "../../../src/ops/event-log.js";
import { silentLogger } from "../../../src/util/log.js";
import { memoryPools } from "../../support/claims.js";
import { FakeClock } from "../../support/fake-clock.js";
import { BEARER, managed } from "../../support/http-server.js";

const IMAGE = "berth-test/busybox:latest";
const json = { ...BEARER, "content-type": "application/json" };

/** Pool `name` of `size` members publishing `ports`, and its members as the engine lists them (hash "h"). */
function pool(name: string, size: number, ports: readonly number[]) {
  const text =
    `apiVersion: berth/v1\nkind: Container\nmetadata: { name: ${name} }\nspec:\n  image: ${IMAGE}\n` +
    `  pool: { size: ${size} }\n  ports: [${ports.map((p) => `{ containerPort: ${p}, hostPort: auto }`).join(", ")}]\n`;
  const spec = parseSpecText(text, `${name}.yaml`, DEFAULT_PARSE_OPTIONS).documents[0]?.spec;
  if (!spec) throw new Error("no pool");
  const members = Array.from({ length: size }, (_, replica): ObservedContainer => {
    const c = managed(`${name}-${replica}`, name);
    return {
      ...c,
      labels: { ...c.labels, "berth.replica": String(replica) },
      ports: ports.map((p, i) => ({
        containerPort: p,
        protocol: "tcp",
        hostIP: "127.0.0.1",
        hostPort: 10_000 + replica * 10 + i,
      })),
    };
  });
  return { spec, members };
}

/** The server with `--compat artie`, the pools and their members, and the claims recorded in `records`. */
function poolServer(pools: ReturnType<typeof pool>[], records: ClaimRecord[] = []) {
  const log = silentLogger();
  const clock = new FakeClock(Date.UTC(2031, 0, 1));
  const owner = ownership(labelKeys(), "default");
  const containers = pools.flatMap((p) => p.members);
  const list = () => Promise.resolve([...containers]);
  const execs: string[] = [];
  const claims = memoryPools(records, {
    docker: {
      listContainers: list,
      removeContainer: (id: string) => {
        const at = containers.findIndex((c) => c.id === id);
        if (at >= 0) containers.splice(at, 1);
        return Promise.resolve();
      },
    },
    owner,
    desired: (name) => {
      const p = pools.find((x) => x.spec.name === name);
      return p ? { spec: p.spec, hash: "h" } : null;
    },
    poolSpecs: () => pools.map((p) => p.spec),
    clock,
  });
  const app = buildServer({
    log,
    controllerId: "default",
    readiness: () => ({ ready: true, reason: null }),
    apiToken: BEARER.authorization.slice("Bearer ".length),
    loopback: true,
    status: () => null,
    events: new EventLog(10),
    metrics: null,
    specs: null,
    pools: claims,
    containers: new ManagedContainers(
      { listContainers: list },
      {
        exec: (id) => {
          execs.push(containers.find((c) => c.id === id)?.name ?? id);
          return Promise.resolve({
            exitCode: 0,
            stdout: "",
            stderr: "",
            truncated: false,
            timedOut: false,
            killed: false,
            durationMs: 1,
          });
        },
        logs: () => Promise.reject(new Error("no logs here")),
      },
      owner,
      log,
    ),
    compat: null,
    artie: { image: IMAGE, hostIP: null, network: "auto", waitMs: 200 },
    now: () => clock.now(),
  });
  return { app, containers, records, execs };
}

describe("Artie: a create served from a pool", () => {
  it("GET shows the host port of the first port the create asked for, as the create answered", async () => {
    const s = poolServer([pool("twoport", 1, [3000, 3001])]);
    const made = await s.app.inject({
      method: "POST",
      url: "/api/containers",
      headers: json,
      payload: JSON.stringify({ name: "p3001c", image: IMAGE, ports: [3001] }),
    });
    expect(made.statusCode).toBe(200);
    const { id, hostPort } = made.json<{ id: string; hostPort: number }>();
    expect(hostPort).toBe(10_001);
    const got = await s.app.inject({ url: `/api/containers/${id}`, headers: BEARER });
    expect(got.json()).toMatchObject({ id, name: "p3001c", hostPort });
    const listed = await s.app.inject({ url: "/api/containers", headers: BEARER });
    expect(listed.json()).toEqual([expect.objectContaining({ id, hostPort })]);
  });

  it("lists it as no pool container: it left the pool for this one consumer", async () => {
    const s = poolServer([pool("one", 1, [3000])]);
    const made = await s.app.inject({
      method: "POST",
      url: "/api/containers",
      headers: json,
      payload: JSON.stringify({ name: "mine", image: IMAGE }),
    });
    const got = await s.app.inject({ url: `/api/containers/${made.json<{ id: string }>().id}`, headers: BEARER });
    expect(got.json()).toMatchObject({ name: "mine", containerName: "one-0", pool: false });
  });
});

describe("Artie: a delete of a pool-served container removed by hand", () => {
  it("releases its Lost claim and answers as a delete does; then it is not found", async () => {
    const one = pool("one", 1, [3000]);
    const s = poolServer([one]);
    const made = await s.app.inject({
      method: "POST",
      url: "/api/containers",
      headers: json,
      payload: JSON.stringify({ name: "mine", image: IMAGE }),
    });
    const { id } = made.json<{ id: string }>();
    expect(s.records).toHaveLength(1);
    s.containers.splice(0); // docker rm -f one-0
    expect((await s.app.inject({ url: `/api/containers/${id}`, headers: BEARER })).statusCode).toBe(404);
    const del = await s.app.inject({ method: "DELETE", url: `/api/containers/${id}`, headers: BEARER });
    expect([del.statusCode, del.json()]).toEqual([200, { success: true, id }]);
    expect(s.records).toEqual([]);
    const again = await s.app.inject({ method: "DELETE", url: `/api/containers/${id}`, headers: BEARER });
    expect(again.statusCode).toBe(404);
  });

  it("leaves a Lost claim not made through Artie's API alone", async () => {
    const one = pool("one", 1, [3000]);
    const lost: ClaimRecord = {
      name: "job-1",
      pool: "one",
      containerId: "f".repeat(64),
      container: "one-7",
      expiresAt: null,
      labels: {},
      claimedAt: 0,
    };
    const s = poolServer([one], [lost]);
    const del = await s.app.inject({ method: "DELETE", url: `/api/containers/${"f".repeat(12)}`, headers: BEARER });
    expect(del.statusCode).toBe(404);
    expect(s.records).toEqual([lost]);
  });
});

describe("native exec by a pool's spec name", () => {
  const exec = (s: ReturnType<typeof poolServer>, name: string) =>
    s.app.inject({
      method: "POST",
      url: `/v1/containers/${name}/exec`,
      headers: json,
      payload: JSON.stringify({ cmd: ["hostname"] }),
    });
  const claimOf = (member: ObservedContainer, name: string): ClaimRecord => ({
    name,
    pool: "one",
    containerId: member.id,
    container: member.name,
    expiresAt: null,
    labels: { [ARTIE_NAME_LABEL]: name },
    claimedAt: 0,
  });

  it("runs in an unclaimed member; the claimed one is reached by its own name", async () => {
    const one = pool("one", 2, [3000]);
    const s = poolServer([one], [claimOf(one.members[0] as ObservedContainer, "job-42")]);
    const bySpec = await exec(s, "one");
    expect([bySpec.statusCode, bySpec.json<{ container: string }>().container]).toEqual([200, "one-1"]);
    const byName = await exec(s, "one-0");
    expect([byName.statusCode, byName.json<{ container: string }>().container]).toEqual([200, "one-0"]);
    expect(s.execs).toEqual(["one-1", "one-0"]);
  });

  it("refuses with 409 naming the claim when every member is claimed, running nothing", async () => {
    const one = pool("one", 1, [3000]);
    const s = poolServer([one], [claimOf(one.members[0] as ObservedContainer, "job-42")]);
    const res = await exec(s, "one");
    expect(res.statusCode).toBe(409);
    expect(res.json<{ error: string }>().error).toContain("one-0 by claim one/job-42");
    expect(s.execs).toEqual([]);
    expect((await exec(s, "nope")).statusCode).toBe(404);
  });
});
