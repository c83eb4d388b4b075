/**
 * Warm pools and claims against the real engine, through the built CLI (docs/pools.md): a pool
 * of 3 converges; 3 concurrent claims get 3 distinct members that answer HTTP; the pool refills
 * to 3; a released claim's container is removed (its host port is the next refill's); bad claims
 * get 404/409/503; with no member ready a claim gets one made cold, or 503 at once when it cannot
 * come (missing image, full host). Crash cases: a claim recorded but never answered (kill -9
 * after the record) keeps its member claimed and is never handed out twice; kill -9 while claims
 * and the refill are in flight leaves no member handed out twice and none leaked.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  containersOf,
  type ContainerView,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollValue, servedPage } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const TOKEN = "pools-test-token-0123456789abcdef";
const auth = { authorization: `Bearer ${TOKEN}` };
const id = testIds();
let controller: RunningBerth | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

/** A pool whose members serve HTTP on 8080 (busybox httpd), published on an auto host port if asked. */
function poolSpec(name: string, size = 3, maxCreating = 3, publish = false): string {
  const ports = publish ? ["ports:", "  - { containerPort: 8080, hostPort: auto }"] : [];
  return e2eSpec(name, [`pool: { size: ${size}, maxCreating: ${maxCreating} }`, ...ports]).replace(
    '["sleep", "infinity"]',
    '["sh", "-c", "mkdir -p /tmp/www && echo $HOSTNAME > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]',
  );
}

async function call(
  base: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const isMember = (pool: string) => (x: ContainerView) => new RegExp(`^${pool}-[0-9]+$`).test(x.name);

/** The claimed container ids the claim files name. */
function claimedIds(runtime: string): string[] {
  let files: string[] = [];
  try {
    files = readdirSync(path.join(runtime, ".claims")).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  return files.map(
    (f) => (JSON.parse(readFileSync(path.join(runtime, ".claims", f), "utf8")) as { containerId: string }).containerId,
  );
}

async function addressOf(containerId: string): Promise<string> {
  const info = await docker.getContainer(containerId).inspect();
  return info.NetworkSettings.Networks.bridge?.IPAddress ?? "";
}

/** Running containers: exactly `size` unclaimed and every claimed one, none twice, none else. */
function converged(runtime: string, size: number) {
  return (cs: ContainerView[]): boolean => {
    const claimed = new Set(claimedIds(runtime));
    const running = cs.filter((x) => x.state === "running");
    const unclaimed = running.filter((x) => !claimed.has(x.id));
    return (
      claimed.size === claimedIds(runtime).length &&
      cs.length === running.length &&
      unclaimed.length === size &&
      [...claimed].every((cid) => running.some((x) => x.id === cid)) &&
      running.length === size + claimed.size
    );
  };
}

describe("warm pools and claims", () => {
  it("a pool of 3 converges, 3 concurrent claims get 3 distinct members that answer, the pool refills, a release removes the member", async () => {
    const c = id("pool");
    const pool = `${c}-web`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({ "web.yaml": poolSpec(pool, 3, 3, true), "plain.yaml": e2eSpec(`${c}-plain`) });
    // Its own slice of host ports, apart from the other tests' (docs/ports.md).
    const range = { from: 41_000, to: 41_019 };
    controller = await startBerth(
      ["--id", c, "--specs", dir, "--runtime-specs", runtime, "--host-port-range", `${range.from}-${range.to}`],
      { BERTH_API_TOKEN: TOKEN },
    );
    const base = controller.url;
    await waitContainers(
      c,
      "3 members running",
      (cs) => cs.filter(isMember(pool)).filter((x) => x.state === "running").length === 3,
      {
        explain: () => controller?.recentLogs() ?? "",
      },
    );

    const claims = await Promise.all(
      [1, 2, 3].map((i) =>
        call(base, "POST", `/v1/pools/${pool}/claims`, { name: `job-${i}`, ttl: "10m", labels: { user: `u${i}` } }),
      ),
    );
    expect(claims.map((r) => r.status)).toEqual([201, 201, 201]);
    const ids = claims.map((r) => r.body.container as string);
    expect(new Set(ids).size).toBe(3);
    expect(claims[0]?.body).toMatchObject({
      claim: "job-1",
      pool,
      phase: "Bound",
      labels: { user: "u1" },
    });
    // Each claim names the host port its member publishes, from the range, one per member.
    const hostPorts = claims.map((r) => r.body.hostPorts as { containerPort: number; hostPort: number }[]);
    for (const ports of hostPorts) {
      expect(ports.map((p) => p.containerPort)).toContain(8080);
      for (const p of ports) expect(p.hostPort >= range.from && p.hostPort <= range.to).toBe(true);
    }
    const published = hostPorts.map((ports) => ports.find((p) => p.containerPort === 8080)?.hostPort ?? 0);
    expect(new Set(published).size).toBe(3);
    for (const [i, cid] of ids.entries()) {
      expect(await servedPage(`http://${await addressOf(cid)}:8080/`)).toBe(`200 ${cid.slice(0, 12)}`);
      // And through the host port the claim gave.
      expect(await servedPage(`http://127.0.0.1:${published[i]}/`)).toBe(`200 ${cid.slice(0, 12)}`);
    }

    // The pool refills to 3 unclaimed members beside the 3 claimed ones.
    await waitContainers(
      c,
      "the pool refilled beside 3 claims",
      (cs) => converged(runtime, 3)(cs.filter(isMember(pool))),
      {
        explain: () => controller?.recentLogs() ?? "",
      },
    );

    // Status: the pool's unclaimed members ready, and its claims, each member marked with its claim.
    const status = await pollValue(
      () => call(base, "GET", `/v1/specs/${pool}`),
      (r) => JSON.stringify(r.body.pool) === JSON.stringify({ size: 3, minReady: 1, ready: 3, claimed: 3 }),
      10_000,
    );
    expect(status.body).toMatchObject({ phase: "Running", replicas: { desired: 3, ready: 3 } });
    expect(status.body.pool).toEqual({ size: 3, minReady: 1, ready: 3, claimed: 3 });
    const marked = (status.body.containers as { id: string; claim?: string }[]).filter((x) => x.claim !== undefined);
    expect(marked.map((x) => [x.id, x.claim]).sort()).toEqual(ids.map((cid, i) => [cid, `job-${i + 1}`]).sort());

    // Bad claims.
    expect((await call(base, "POST", `/v1/pools/${pool}/claims`, { name: "job-1" })).status).toBe(409);
    const notPool = await call(base, "POST", `/v1/pools/${c}-plain/claims`, {});
    expect(notPool.status).toBe(404);
    expect(notPool.body.error).toMatch(/not a pool/);
    expect((await call(base, "POST", `/v1/pools/${c}-nothing/claims`, {})).status).toBe(404);
    expect((await call(base, "POST", `/v1/pools/${pool}/claims`, { ttl: "soon" })).status).toBe(400);

    // Read and release.
    expect((await call(base, "GET", `/v1/pools/${pool}/claims/job-2`)).body).toMatchObject({
      container: ids[1],
      phase: "Bound",
    });
    expect(((await call(base, "GET", `/v1/pools/${pool}/claims`)).body.claims as unknown[]).length).toBe(3);
    const released = await call(base, "DELETE", `/v1/pools/${pool}/claims/job-2`);
    expect(released).toMatchObject({ status: 200, body: { released: true, removedContainer: true } });
    expect((await containersOf(c)).some((x) => x.id === ids[1])).toBe(false);
    expect((await call(base, "GET", `/v1/pools/${pool}/claims/job-2`)).status).toBe(404);
    expect((await call(base, "DELETE", `/v1/pools/${pool}/claims/job-2`)).status).toBe(404);
    expect(claimedIds(runtime).sort()).toEqual([ids[0], ids[2]].sort());

    // The same through the CLI: berth claim, berth release.
    const env = { BERTH_API_TOKEN: TOKEN, BERTH_SERVER: base };
    const claimed = await berth(["claim", pool, "--name", "cli", "--ttl", "5m", "-o", "json"], env);
    expect(claimed.code, claimed.stderr).toBe(0);
    const cli = JSON.parse(claimed.stdout) as { container: string; claim: string };
    expect(cli.claim).toBe("cli");
    expect(claimedIds(runtime)).toContain(cli.container);
    // berth exec by the pool's name, told where the claims are, runs in a member no claim holds.
    const ran = await berth(["exec", "--id", c, "--runtime-specs", runtime, pool, "--", "hostname"]);
    expect(ran.code, ran.stderr).toBe(0);
    const host = ran.stdout.trim();
    expect(host).toMatch(/^[0-9a-f]{12}$/);
    expect(claimedIds(runtime).map((x) => x.slice(0, 12))).not.toContain(host);
    expect((await containersOf(c)).some((x) => x.id.startsWith(host) && isMember(pool)(x))).toBe(true);
    // The refill after that claim takes the lowest free port: the one the released member had.
    const reused = await pollValue(
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`berth.controller=${c}`] } })).find((x) =>
          x.Ports.some((p) => p.PublicPort === published[1]),
        ),
      (x) => x !== undefined && x.Id !== ids[1] && x.State === "running",
      30_000,
    );
    expect(reused?.Names[0]).toMatch(new RegExp(`^/${pool}-[0-9]+$`));
    const again = await berth(["claim", pool, "--name", "cli"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refused \(409\)/);
    const released2 = await berth(["release", `${pool}/cli`], env);
    expect(released2.code, released2.stderr).toBe(0);
    expect((await containersOf(c)).some((x) => x.id === cli.container)).toBe(false);
  });

  it("no member ready: the claim gets one made cold for it; the pool stays at its size", async () => {
    const c = id("pool-cold");
    const pool = `${c}-web`;
    const runtime = tempDir("berth-runtime-");
    // size 0 keeps nothing warm: every claim is a cold create.
    const dir = specDir({ "web.yaml": poolSpec(pool, 0, 1) });
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: TOKEN });
    const base = controller.url;
    expect(await containersOf(c)).toEqual([]);
    // Without a wait, only a member ready now will do.
    const none = await call(base, "POST", `/v1/pools/${pool}/claims`, { wait: "0s" });
    expect(none.status).toBe(503);
    expect(none.body.error).toMatch(new RegExp(`no ready member of pool ${pool} \\(0 of 0 members ready\\)`));
    // Rounds of five at once, each willing to wait 20 s: the looks of waiting claims must not
    // keep the passes from making the members they wait for (they once did: by the third round,
    // every claim answered 503 after its wait, the creates planned again and again, never begun).
    const served: Awaited<ReturnType<typeof call>>[] = [];
    for (const round of [1, 2, 3]) {
      const asked = Date.now();
      const answers = await Promise.all(
        ["a", "b", "c", "d", "e"].map((n) =>
          call(base, "POST", `/v1/pools/${pool}/claims`, { name: `${n}${round}`, wait: "20s" }),
        ),
      );
      // On a failure, what berth did meanwhile: the answers, how long they took, the failed actions.
      const failures = controller.logs.filter((l) => String(l.msg).startsWith("action failed"));
      const seen = { round, answers: answers.map((r) => r.body), ms: Date.now() - asked, failures };
      expect(
        answers.map((r) => r.status),
        JSON.stringify(seen),
      ).toEqual([201, 201, 201, 201, 201]);
      served.push(...answers);
    }
    expect(new Set(served.map((r) => r.body.container)).size).toBe(15);
    for (const r of served.slice(2))
      expect((await call(base, "DELETE", `/v1/pools/${pool}/claims/${String(r.body.claim)}`)).status).toBe(200);
    const [a, b] = served;
    for (const r of [a, b]) {
      const cid = r?.body.container as string;
      expect(await servedPage(`http://${await addressOf(cid)}:8080/`)).toBe(`200 ${cid.slice(0, 12)}`);
    }
    // Nothing unclaimed is left behind: the two claimed members and nothing else.
    await waitContainers(c, "the two claimed members only", converged(runtime, 0));
    expect((await call(base, "DELETE", `/v1/pools/${pool}/claims/a1`)).status).toBe(200);
    await waitContainers(c, "the one claimed member left", (cs) => cs.length === 1 && cs[0]?.id === b?.body.container);
  });

  it("under --capacity, a claim the host has no room to make a member for takes the refill that fits", async () => {
    const c = id("pool-room");
    const pool = `${c}-cap`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({ "cap.yaml": poolSpec(pool, 2, 2) });
    controller = await startBerth(
      ["--id", c, "--specs", dir, "--runtime-specs", runtime, "--capacity", "containers=3"],
      { BERTH_API_TOKEN: TOKEN },
    );
    const base = controller.url;
    await waitContainers(c, "the pool of 2", converged(runtime, 2));
    // Two claims take the two members; three containers fit, so one refill fits and the third
    // claim's own cold member does not: the claim waits for the refill rather than giving up.
    const answers: Awaited<ReturnType<typeof call>>[] = [];
    for (const name of ["a", "b", "c"])
      answers.push(await call(base, "POST", `/v1/pools/${pool}/claims`, { name, wait: "30s" }));
    expect(
      answers.map((r) => r.status),
      JSON.stringify(answers.map((r) => r.body)),
    ).toEqual([201, 201, 201]);
    expect(new Set(answers.map((r) => r.body.container)).size).toBe(3);
  });

  it("a member made cold that cannot come answers 503 at once with the reason: a missing image, a full host", async () => {
    const c = id("pool-blocked");
    const missing = `${c}-img`;
    const full = `${c}-full`;
    // A registry nothing listens at: the pull fails at once.
    const UNPULLABLE = `127.0.0.1:9/berth-absent-${c}:missing`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({
      "img.yaml": e2eSpec(missing, ["pool: { size: 0 }"]).replace(/image: .*/, `image: ${UNPULLABLE}`),
      // More memory than the host has: no member of it ever fits.
      "full.yaml": e2eSpec(full, ["pool: { size: 0 }", "resources: { memory: 2Gi }"]),
      "holder.yaml": e2eSpec(`${c}-holder`),
    });
    controller = await startBerth(
      ["--id", c, "--specs", dir, "--runtime-specs", runtime, "--capacity", "containers=2,memory=1Gi"],
      { BERTH_API_TOKEN: TOKEN },
    );
    const base = controller.url;
    await waitContainers(c, "the holder running", (cs) =>
      cs.some((x) => x.name === `${c}-holder` && x.state === "running"),
    );
    const started = Date.now();
    const [img, room] = await Promise.all([
      call(base, "POST", `/v1/pools/${missing}/claims`, { wait: "5m" }),
      call(base, "POST", `/v1/pools/${full}/claims`, { wait: "5m" }),
    ]);
    expect(img.status).toBe(503);
    expect(img.body.error).toMatch(new RegExp(`no ready member of pool ${missing} .*127\\.0\\.0\\.1:9`));
    expect(room.status).toBe(503);
    expect(room.body.error).toMatch(
      new RegExp(
        `no ready member of pool ${full} .*Unschedulable: needs memory 2Gi, more than the whole capacity \\(1Gi, --capacity\\): it never fits`,
      ),
    );
    // Long before the 5 minutes they were willing to wait.
    expect(Date.now() - started).toBeLessThan(120_000);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-holder`]);
  });

  it("kill -9 after a claim was recorded but before it was answered: the member stays claimed, never handed out twice", async () => {
    const c = id("pool-crash");
    const pool = `${c}-web`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({ "web.yaml": poolSpec(pool, 2, 2) });
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: TOKEN });
    const members = await waitContainers(
      c,
      "2 members running",
      (cs) => cs.filter((x) => x.state === "running").length === 2,
    );
    await controller.kill9();
    controller = undefined;
    // What the claim leaves on disk before its answer: the record, written atomically.
    const victim = members[0] as ContainerView;
    mkdirSync(path.join(runtime, ".claims"), { recursive: true });
    writeFileSync(
      path.join(runtime, ".claims", `${pool}.lost-answer.json`),
      JSON.stringify({
        name: "lost-answer",
        pool,
        containerId: victim.id,
        container: victim.name,
        expiresAt: null,
        labels: {},
        claimedAt: Date.now(),
      }),
    );
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: TOKEN });
    const base = controller.url;
    // The retry with the same name answers 409 with the claim that exists (the member it got).
    const retry = await call(base, "POST", `/v1/pools/${pool}/claims`, { name: "lost-answer" });
    expect(retry.status).toBe(409);
    expect((retry.body.claim as Record<string, unknown>).container).toBe(victim.id);
    await waitContainers(c, "the pool refilled beside the claim", converged(runtime, 2));
    const others = await Promise.all(
      [1, 2].map((i) => call(base, "POST", `/v1/pools/${pool}/claims`, { name: `n-${i}`, wait: "20s" })),
    );
    expect(others.map((r) => r.status)).toEqual([201, 201]);
    expect(others.map((r) => r.body.container)).not.toContain(victim.id);
    expect((await containersOf(c)).find((x) => x.id === victim.id)?.state).toBe("running");
  });

  it("kill -9 while claims and the refill are in flight: no member handed out twice, none leaked, the pool back to size", async () => {
    const c = id("pool-kill");
    const pool = `${c}-web`;
    const runtime = tempDir("berth-runtime-");
    const dir = specDir({ "web.yaml": poolSpec(pool, 3, 2) });
    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: TOKEN });
    await waitContainers(c, "3 members running", (cs) => cs.filter((x) => x.state === "running").length === 3);
    const base = controller.url;
    const victim = controller;
    // Claims race with the kill; the refill they cause is in flight when berth dies.
    const answers = Promise.all(
      [1, 2, 3].map((i) =>
        call(base, "POST", `/v1/pools/${pool}/claims`, { name: `k-${i}` }).catch(
          (): Awaited<ReturnType<typeof call>> => ({ status: 0, body: {} }),
        ),
      ),
    );
    await victim.waitForLog("pool member claimed", 10_000);
    await victim.kill9();
    controller = undefined;
    const answered = (await answers).filter((r) => r.status === 201).map((r) => r.body.container as string);
    // Every answered claim is recorded (the record precedes the answer).
    expect(claimedIds(runtime)).toEqual(expect.arrayContaining(answered));

    controller = await startBerth(["--id", c, "--specs", dir, "--runtime-specs", runtime], { BERTH_API_TOKEN: TOKEN });
    const final = await waitContainers(
      c,
      "3 unclaimed members beside the claims, nothing else",
      converged(runtime, 3),
      {
        explain: () => `claims: ${claimedIds(runtime).join(", ")}\n${controller?.recentLogs() ?? ""}`,
      },
    );
    const claimed = claimedIds(runtime);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(final.length).toBe(3 + claimed.length);
    // A new claim never gets a member already claimed.
    const more = await call(controller.url, "POST", `/v1/pools/${pool}/claims`, { name: "after", wait: "20s" });
    expect(more.status).toBe(201);
    expect(claimed).not.toContain(more.body.container);
  });
});
