/**
 * A docker-spawner client replayed against berth (docs/http-api.md, "docker-spawner
 * compatibility"): the example requests of docker-spawner's own document
 * (test/fixtures/reference/docker-spawner.md), sent verbatim — only the host, the port and the
 * token substituted — to `berth run --compat docker-spawner`; the answers have the codes and
 * shapes the document gives. `tidepool-tl`, the container its exec example names, is made by
 * hand as docker-spawner made agents (its labels, none of berth's).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import { codeBlocks, curlRequests, jsonOf } from "../support/reference-doc.js";
import {
  commitImage,
  docker,
  removeImage,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
} from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

const REFERENCE = readFileSync("test/fixtures/reference/docker-spawner.md", "utf8");
const TOKEN = "replay-token-0123456789abcdef";
const RUN = process.pid;
const AGENT_IMAGE = `berth-test/spawn-replay-${RUN}:latest`;
/** Marks what this test made by hand, so that a leftover of an earlier run can be told apart. */
const MARK = "berth-test.replay";

const id = testIds();
let controller: RunningBerth | undefined;
const made: string[] = [];
let madeWorktree: string | null = null;

/** The example's base URL, as the document writes it. */
const DOCUMENT_BASE = "http://localhost:7435";

function example(heading: string, label: string): unknown {
  const block = codeBlocks(REFERENCE).find((b) => b.heading === heading && b.label === label && b.lang === "json");
  if (!block) throw new Error(`the reference has no ${label} example under ${heading}`);
  return jsonOf(block);
}

/** Each field's JSON type, as a shape to compare. */
function shape(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v]));
}

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${controller?.url}${path}`, {
    method,
    headers: { ...headers, authorization: `Bearer ${TOKEN}` },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

/** Removes a container by ID; one already gone is fine. */
const remove = (cid: string) =>
  docker
    .getContainer(cid)
    .remove({ force: true })
    .catch(() => undefined);

beforeAll(async () => {
  await commitImage(`berth-test/spawn-replay-${RUN}`, ["sleep", "infinity"]);
  // Leftovers of an earlier run of this test, by the mark only it puts on them.
  for (const c of await docker.listContainers({ all: true, filters: { label: [MARK] } })) await remove(c.Id);
});

afterAll(async () => {
  if (controller) expect(await controller.stop()).toBe(0);
  for (const cid of made) await remove(cid);
  if (madeWorktree) rmSync(madeWorktree, { recursive: true, force: true });
  await removeImage(AGENT_IMAGE);
});

describe("docker-spawner's documented examples, replayed", () => {
  it("health, exec, spawn, status and stop answer with the codes and shapes docker-spawner's document gives", async () => {
    const spawnBody = example("POST /spawn", "Request:") as { worktree_path: string };
    // The spawn example's worktree, where it says (only a root test runner may make it).
    const top = spawnBody.worktree_path.split("/").slice(0, 2).join("/");
    if (!existsSync(spawnBody.worktree_path)) {
      madeWorktree = existsSync(top) ? spawnBody.worktree_path : top;
      mkdirSync(spawnBody.worktree_path, { recursive: true });
    }
    const c = id("replay");
    controller = await startBerth(
      [
        ...["--id", c, "--specs", specDir({}), "--runtime-specs", tempDir("berth-runtime-")],
        ...["--compat", "docker-spawner", "--spawn-image", AGENT_IMAGE, "--network", "none"],
        ...["--allow-bind", top, "--resync", "1s", "--spawn-timeout", "60s"],
      ],
      { BERTH_API_TOKEN: TOKEN },
    );

    // The agent the exec example names, as docker-spawner made one, with the user and folder
    // the exec Request example uses.
    const tl = await docker.createContainer({
      name: "tidepool-tl",
      Image: TEST_IMAGE,
      Cmd: ["sleep", "infinity"],
      Labels: {
        "com.tidepool.bead_id": "tl",
        "com.tidepool.role": "agent",
        "com.tidepool.expires_at": "never",
        [MARK]: "1",
      },
      HostConfig: { Init: true, NetworkMode: "none" },
    });
    made.push(tl.id);
    await tl.start();
    const setup = await tl.exec({ Cmd: ["sh", "-c", "adduser -D agent && mkdir /workspace"], AttachStdout: true });
    await new Promise((resolve) => setup.start({}, (_e, s) => s?.on("end", resolve).resume()));

    // The document's curl examples, verbatim, with the answers their comments give.
    const curls = curlRequests(REFERENCE);
    expect(curls.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${DOCUMENT_BASE}/health`,
      `POST ${DOCUMENT_BASE}/exec/tidepool-tl`,
    ]);
    for (const r of curls) {
      const answer = await send(r.method, r.url.replace(DOCUMENT_BASE, ""), r.body, r.headers);
      expect(answer.status, answer.text).toBe(200);
      const expected = JSON.parse(r.expected ?? "null") as unknown;
      if (typeof expected === "string") expect(answer.text).toBe(expected);
      else expect(JSON.parse(answer.text)).toEqual(expected);
    }

    // POST /spawn with its Request example: its expires_at (2026-01-26) has passed, so berth
    // spawns it and reaps it at once, adding "expired": true to the documented shape.
    const spawned = await send("POST", "/spawn", JSON.stringify(spawnBody), { "content-type": "application/json" });
    expect(spawned.status, spawned.text).toBe(200);
    const spawnAnswer = JSON.parse(spawned.text) as Record<string, unknown>;
    const documented = example("POST /spawn", "Response:") as Record<string, unknown>;
    expect(shape(spawnAnswer)).toEqual({ ...shape(documented), expired: "boolean" });
    expect(spawnAnswer.hostname).toBe(documented.hostname);
    const cid = spawnAnswer.container_id as string;

    // GET /status/{id}: the documented shape; the reaped agent reads not_found.
    const status = await send("GET", `/status/${cid}`);
    expect(status.status).toBe(200);
    expect(shape(JSON.parse(status.text))).toEqual(shape(example("GET /status/{id}", "Response:")));
    expect(
      await pollUntil(
        async () => JSON.parse((await send("GET", `/status/${cid}`)).text).status === "not_found",
        30_000,
      ),
    ).toBe(true);

    // POST /exec/{id} with its Request example, in the agent the curl example named.
    const exec = await send("POST", "/exec/tidepool-tl", JSON.stringify(example("POST /exec/{id}", "Request:")), {
      "content-type": "application/json",
    });
    expect(exec.status, exec.text).toBe(200);
    expect(shape(JSON.parse(exec.text))).toEqual(shape(example("POST /exec/{id}", "Response:")));

    // POST /stop/{id}: "200 OK on success"; the agent is stopped and removed.
    const stop = await send("POST", "/stop/tidepool-tl");
    expect([stop.status, stop.text]).toEqual([200, ""]);
    expect(await docker.listContainers({ all: true, filters: { id: [tl.id] } })).toEqual([]);
    // The spawned agent's spec goes too.
    expect((await send("POST", `/stop/${documented.hostname as string}`)).status).toBe(200);
    // And a stop of nothing is an error, as docker-spawner's is.
    expect((await send("POST", "/stop/tidepool-tl")).status).toBe(404);
  });
});
