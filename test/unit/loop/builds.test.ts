/**
 * Builds in the loop, on the in-memory Docker fake with a fake clock and a real spec folder: built
 * once per context hash, a changed context replaces the container, a failed build keeps the
 * running one and shows the build's last lines in the status, then is retried with backoff.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, harness } from "../../support/harness.js";
import { pollUntil } from "../../support/poll.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

let h: Harness | undefined;

/**
 * Steps the fake clock until `check` holds (a build reads real files: the fake clock alone does
 * not wait for that I/O); fails the test at a real-time deadline.
 */
async function until(what: string, check: () => boolean): Promise<void> {
  const met = await pollUntil(async () => {
    await h?.clock.advance(50);
    return check();
  }, 10_000);
  if (!met) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(h?.status("web")?.message)}`);
}
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const SPEC = specText("web", { image: null, extra: ["build:", "  context: ./app", 'command: ["sleep", "infinity"]'] });

describe("builds in the loop", () => {
  it("builds once per context, replaces on a change, and keeps the container through a failed build", async () => {
    const stateDir = tempDir("berth-state-");
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir } });
    mkdirSync(path.join(h.dir, "app"));
    h.write("app/Dockerfile", "FROM berth-test/busybox\nCOPY . /app\n");
    h.write("app/msg.txt", "one\n");
    await h.start();
    await until("the first build and its container", () => h?.status("web")?.phase === "Running");
    expect(h.docker.builds.map((b) => [b.tag.replace(/[0-9a-f]{12}$/, "<hash>"), b.entries])).toEqual([
      ["berth.local/web:<hash>", ["Dockerfile", "msg.txt"]],
    ]);
    const first = h.docker.byName("web");
    expect(first?.image).toBe(h.docker.builds[0]?.tag);
    expect(h.status("web")?.phase).toBe("Running");

    // Nothing changed: no build, no replace.
    await h.changed();
    await h.clock.advance(100);
    expect(h.docker.builds).toHaveLength(1);
    expect(h.docker.byName("web")?.id).toBe(first?.id);

    // A broken build: the container stays, the status has the build's last lines.
    h.docker.buildFails = [
      "Step 2/2 : RUN exit 3",
      "boom: the step's own output",
      "ERROR: returned a non-zero code: 3",
    ];
    h.write("app/msg.txt", "two\n");
    await h.changed();
    await until("the failed build", () => h?.status("web")?.phase === "Failed");
    expect(h.docker.byName("web")?.id).toBe(first?.id);
    expect(h.docker.byName("web")?.state).toBe("running");
    const status = h.status("web");
    expect(status?.phase).toBe("Failed");
    expect(status?.message).toContain("the last good containers keep running");
    expect(status?.message).toContain("  | boom: the step's own output");
    expect(h.docker.calls.filter((c) => c.operation === "remove")).toEqual([]);
    const log = readFileSync(path.join(stateDir, "builds", "test", "web.log"), "utf8");
    expect(log).toMatch(/boom: the step's own output\n.*\n# berth\.local\/web:[0-9a-f]{12} failed: /);

    // Fixed: the retry (after its backoff) builds and replaces.
    h.docker.buildFails = null;
    await until("the retried build", () => h?.status("web")?.phase === "Running");
    expect(h.docker.builds).toHaveLength(2);
    expect(h.docker.byName("web")?.image).toBe(h.docker.builds[1]?.tag);
    expect(h.docker.byName("web")?.id).not.toBe(first?.id);
    expect(h.status("web")?.phase).toBe("Running");
  });

  it("removes a build two behind once the container runs the newest, and lists no other containers otherwise", async () => {
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir: tempDir("berth-state-") } });
    mkdirSync(path.join(h.dir, "app"));
    h.write("app/Dockerfile", "FROM berth-test/busybox\nCOPY . /app\n");
    h.write("app/msg.txt", "one\n");
    await h.start();
    const tags = (): string[] => h?.docker.builds.map((b) => b.tag) ?? [];
    const runs = (n: number) => (): boolean => tags().length === n && h?.docker.byName("web")?.image === tags()[n - 1];
    await until("the first build's container", runs(1));
    for (const [n, text] of [
      [2, "two\n"],
      [3, "three\n"],
    ] as const) {
      h.write("app/msg.txt", text);
      await h.changed();
      await until(`build ${String(n)}'s container`, runs(n));
    }
    const [one = "", two = "", three = ""] = tags();
    await until("the first build removed", () => !h?.docker.images.has(one));
    expect([two, three].every((t) => h?.docker.images.has(t))).toBe(true);
    expect(h.docker.calls.filter((c) => c.operation === "image-remove").map((c) => c.subject)).toEqual([one]);
    expect(h.status("web")?.phase).toBe("Running");

    // Steady: nothing to remove, so no pass lists the containers berth does not own.
    const listed = (): number => h?.docker.calls.filter((c) => c.operation === "list" && c.subject === "").length ?? 0;
    const before = listed();
    await h.changed();
    await h.clock.advance(100);
    expect(listed()).toBe(before);
  });

  it("sends the credentials berth finds for the registries of the Dockerfile's FROM images, and none for others", async () => {
    const config = path.join(tempDir("berth-docker-config-"), "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        auths: {
          "127.0.0.1:5000": { username: "builder", password: "hunter2" },
          "quay.io": { auth: Buffer.from("q:pw").toString("base64") },
          "registry.unused": { username: "x", password: "y" },
        },
      }),
    );
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir: tempDir("berth-state-"), dockerConfig: config } });
    mkdirSync(path.join(h.dir, "app"));
    h.write(
      "app/Dockerfile",
      [
        "ARG BASE=127.0.0.1:5000/team/base",
        "FROM ${BASE}:1 AS deps",
        "FROM ghcr.io/team/runtime:2",
        "COPY --from=deps /x /x",
        "COPY --from=quay.io/tools/t:3 /t /t",
        "",
      ].join("\n"),
    );
    await h.start();
    await until("the build's container", () => h?.status("web")?.phase === "Running");
    // ghcr.io has no entry: left out, the engine pulls it without credentials.
    expect(h.docker.builds.map((b) => b.registryConfig)).toEqual([
      {
        "127.0.0.1:5000": { serveraddress: "127.0.0.1:5000", username: "builder", password: "hunter2" },
        "quay.io": { serveraddress: "quay.io", username: "q", password: "pw" },
      },
    ]);
  });

  it("a failed first build does not speak of containers that keep running: there are none", async () => {
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir: tempDir("berth-state-") } });
    mkdirSync(path.join(h.dir, "app"));
    h.write("app/Dockerfile", "FROM berth-test/busybox\nRUN exit 3\n");
    h.docker.buildFails = ["Step 2/2 : RUN exit 3", "ERROR: returned a non-zero code: 3"];
    await h.start();
    await until("the failed build", () => h?.status("web")?.phase === "Failed");
    const message = h.status("web")?.message ?? "";
    expect(message).toMatch(
      /building image berth\.local\/web:[0-9a-f]{12} for web failed \(.*\); berth retries with backoff \(berth logs --build web/,
    );
    expect(message).not.toContain("keep running");
    expect(h.docker.names()).toEqual([]);
  });

  it("a missing context is the spec file's problem, at its line: nothing is built", async () => {
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir: tempDir("berth-state-") } });
    await h.start();
    await h.clock.advance(100);
    expect(h.docker.builds).toEqual([]);
    expect(h.status("web")?.message).toMatch(/web\.yaml:\d+:\d+: spec\.build\.context: .*app does not exist/);
  });

  it("leaves the containers alone while the context cannot be used (a link out of the spec folder)", async () => {
    h = await harness({ "web.yaml": SPEC }, { raw: { stateDir: tempDir("berth-state-") } });
    // There on disk, so valid at load; refused where it is read, at the build.
    const outside = tempDir("berth-outside-");
    writeFileSync(path.join(outside, "Dockerfile"), "FROM berth-test/busybox\n");
    symlinkSync(outside, path.join(h.dir, "app"));
    await h.start();
    await h.clock.advance(100);
    expect(h.docker.builds).toEqual([]);
    expect(h.status("web")?.message).toMatch(/the build context .*app leads outside the spec folder/);
  });
});
