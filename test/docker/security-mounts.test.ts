/**
 * Issue 14, finding 1, end to end on the real engine: no path a container can write decides what
 * any container mounts. The attack: a container that can write a folder replaces a sub-folder
 * another mount takes its host path from with a symbolic link to /etc and exits; the restart
 * policy (or berth's own start) mounts the link's target. Each test performs the attack through
 * `berth run` and shows it goes nowhere: the specs are refused at load (one container; two
 * containers; the writable parent added after the child runs), the pre-create audit refuses a
 * writable parent over a container no spec describes any more, and berth's start refuses a
 * container whose bind source now leads to /etc.
 */
import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  containersOf,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | undefined;

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

/** The attacker: if /w/d is not yet a link, make it one to /etc and exit, so that a restart follows it. */
const PLANT = 'command: ["sh", "-c", "if [ ! -L /w/d ]; then rm -rf /w/d; ln -s /etc /w/d; exit 1; fi; sleep 1000"]';

/** A host folder with x/d in it: x is what the attacker writes, x/d what the victim mounts. */
function worktree(): string {
  const wt = tempDir("berth-wt-");
  mkdirSync(path.join(wt, "x", "d"), { recursive: true });
  writeFileSync(path.join(wt, "x", "d", "marker"), "the real x/d\n");
  return wt;
}

/** x/d is still the folder it was: the attack never ran. */
function untouched(wt: string): boolean {
  return lstatSync(path.join(wt, "x", "d")).isDirectory();
}

interface SpecStatusView {
  readonly phase: string;
  readonly message: string | null;
}

async function statusOf(url: string, name: string): Promise<SpecStatusView | null> {
  const res = await fetch(`${url}/v1/specs/${name}`);
  return res.ok ? ((await res.json()) as SpecStatusView) : null;
}

async function waitPhase(url: string, name: string, phase: string): Promise<SpecStatusView | null> {
  return pollValue(
    () => statusOf(url, name),
    (s) => s?.phase === phase,
    30_000,
  );
}

describe("bind mounts inside writable ones, on the real engine", () => {
  it("one container: refused at load with the reason; it never exists and the host's /etc is never mounted", async () => {
    const c = id("one");
    const wt = worktree();
    const dir = specDir({
      "attack.yaml": specText(`${c}-attack`, {
        image: TEST_IMAGE,
        extra: [
          "init: true",
          "stopTimeout: 1s",
          "mounts:",
          `  - { type: bind, source: ${wt}/x, target: /w }`,
          `  - { type: bind, source: ${wt}/x/d, target: /d, readOnly: true }`,
          PLANT,
        ],
      }),
      "calm.yaml": e2eSpec(`${c}-calm`),
    });

    const validate = await berth(["validate", "--allow-bind", wt, dir]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain(
      `${dir}/attack.yaml:11:29: spec.mounts[1].source: "${wt}/x/d" lies inside "${wt}/x", which spec.mounts[0] mounts writable at /w; ` +
        "whatever can write there can swap that path for a symbolic link (to /etc, say), which the engine follows when the container starts again: " +
        "make the outer mount readOnly, or mount folders that do not nest [policy baseline: bind-inside-writable]",
    );

    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", wt]);
    await waitContainers(c, "its container running", (cs) =>
      cs.some((x) => x.name === `${c}-calm` && x.state === "running"),
    );
    const status = await waitPhase(controller.url, `${c}-attack`, "Invalid");
    expect(status?.message).toContain("[policy baseline: bind-inside-writable]");
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-calm`]);
    expect(controller.logs.filter((l) => l.spec === `${c}-attack` && l.msg === "action completed")).toEqual([]);
    expect(untouched(wt)).toBe(true);
  });

  it("two containers: both specs refused, each naming the other's place; neither exists", async () => {
    const c = id("two");
    const wt = worktree();
    const dir = specDir({
      "writer.yaml": specText(`${c}-writer`, {
        image: TEST_IMAGE,
        extra: ["init: true", "stopTimeout: 1s", `mounts: [{ type: bind, source: ${wt}/x, target: /w }]`, PLANT],
      }),
      "reader.yaml": e2eSpec(`${c}-reader`, [
        `mounts: [{ type: bind, source: ${wt}/x/d, target: /d, readOnly: true }]`,
      ]),
      "calm.yaml": e2eSpec(`${c}-calm`),
    });

    const validate = await berth(["validate", "--allow-bind", wt, dir]);
    expect(validate.code).toBe(1);
    const lines = validate.stdout.split("\n").filter((l) => l.includes("bind-inside-writable"));
    expect(lines).toEqual([
      `${dir}/reader.yaml:4:9: spec.mounts: "${wt}/x/d" lies inside "${wt}/x", which spec "${c}-writer" (${dir}/writer.yaml:4:9) mounts writable at /w; ` +
        "whatever can write there can swap that path for a symbolic link (to /etc, say), which the engine follows when the container starts again: " +
        "make the outer mount readOnly, or mount folders that do not nest (neither is applied) [policy baseline: bind-inside-writable]",
      `${dir}/writer.yaml:4:9: spec.mounts: writable "${wt}/x" holds "${wt}/x/d", which spec "${c}-reader" (${dir}/reader.yaml:4:9) mounts at /d; ` +
        "whatever can write there can swap that path for a symbolic link (to /etc, say), which the engine follows when the container starts again: " +
        "make the outer mount readOnly, or mount folders that do not nest (neither is applied) [policy baseline: bind-inside-writable]",
    ]);

    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", wt]);
    await waitContainers(c, "its container running", (cs) =>
      cs.some((x) => x.name === `${c}-calm` && x.state === "running"),
    );
    const writer = await waitPhase(controller.url, `${c}-writer`, "Invalid");
    const reader = await waitPhase(controller.url, `${c}-reader`, "Invalid");
    expect(writer?.message).toContain(`which spec "${c}-reader"`);
    expect(reader?.message).toContain(`which spec "${c}-writer"`);
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-calm`]);
    expect(untouched(wt)).toBe(true);
  });

  it("the wrong order: with the child running, a writable parent added later is refused (and so is the child's spec)", async () => {
    const c = id("order");
    const wt = worktree();
    const dir = specDir({
      "reader.yaml": e2eSpec(`${c}-reader`, [
        `mounts: [{ type: bind, source: ${wt}/x/d, target: /d, readOnly: true }]`,
      ]),
    });
    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", wt]);
    const [running] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );

    writeFileSync(
      path.join(dir, "writer.yaml"),
      specText(`${c}-writer`, {
        image: TEST_IMAGE,
        extra: ["init: true", "stopTimeout: 1s", `mounts: [{ type: bind, source: ${wt}/x, target: /w }]`, PLANT],
      }),
    );
    const writer = await waitPhase(controller.url, `${c}-writer`, "Invalid");
    expect(writer?.message).toContain(`writable "${wt}/x" holds "${wt}/x/d", which spec "${c}-reader"`);
    const reader = await waitPhase(controller.url, `${c}-reader`, "Invalid");
    expect(reader?.message).toContain(`which spec "${c}-writer"`);
    // The child keeps running as it was (tightening never removes); the parent never exists.
    const now = await containersOf(c);
    expect(now.map((x) => [x.id, x.state])).toEqual([[running?.id, "running"]]);
    expect(untouched(wt)).toBe(true);
  });

  it("the pre-create audit refuses a writable parent over a container no spec describes any more", async () => {
    const c = id("audit");
    const wt = worktree();
    const dir = specDir({
      "reader.yaml": e2eSpec(`${c}-reader`, [
        `mounts: [{ type: bind, source: ${wt}/x/d, target: /d, readOnly: true }]`,
      ]),
    });
    // --prune-max-share 0: the reader's container stays when its file goes (pruning paused).
    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", wt, "--prune-max-share", "0"]);
    await waitContainers(c, "one container running", (cs) => cs.length === 1 && cs[0]?.state === "running");
    rmSync(path.join(dir, "reader.yaml"));
    writeFileSync(
      path.join(dir, "writer.yaml"),
      specText(`${c}-writer`, {
        image: TEST_IMAGE,
        extra: ["init: true", "stopTimeout: 1s", `mounts: [{ type: bind, source: ${wt}/x, target: /w }]`, PLANT],
      }),
    );
    // The checks across files see only the writer; the audit sees the reader's container.
    expect(
      await pollUntil(
        () =>
          controller?.logs.some((l) => l.spec === `${c}-writer` && String(l.msg).startsWith("action failed")) ?? false,
        30_000,
      ),
    ).toBe(true);
    const failure = controller.logs.find((l) => l.spec === `${c}-writer` && String(l.msg).startsWith("action failed"));
    expect(String(failure?.err)).toBe(
      `refused by the admission policy just before creating ${c}-writer: bind-inside-writable: ` +
        `writable "${wt}/x" holds ${wt}/x/d, which container "${c}-reader" mounts`,
    );
    expect((await containersOf(c)).map((x) => x.name)).toEqual([`${c}-reader`]);
    expect(untouched(wt)).toBe(true);
  });

  it("berth's own start audits the container's mounts again: a bind source swapped to /etc is not started", async () => {
    const c = id("start");
    const name = `${c}-svc`;
    const host = tempDir("berth-start-");
    const allowed = path.join(host, "allowed");
    mkdirSync(path.join(allowed, "real"), { recursive: true });
    const link = path.join(allowed, "link");
    symlinkSync(path.join(allowed, "real"), link);
    const dir = specDir({ "svc.yaml": e2eSpec(name, [`mounts: [{ type: bind, source: ${link}, target: /data }]`]) });
    controller = await startBerth(["--id", c, "--specs", dir, "--allow-bind", allowed]);
    const [first] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );

    // The host changes under a container that exists: the next start would mount /etc.
    rmSync(link);
    symlinkSync("/etc", link);
    await docker.getContainer(first?.id ?? "").stop({ t: 0 });
    const status = await waitPhase(controller.url, name, "Failed");
    expect(status?.message).toBe(
      `refused by the admission policy before starting ${name}: bind-forbidden: bind mount of ${link}`,
    );
    const after = await docker.getContainer(first?.id ?? "").inspect();
    expect(after.State.Running).toBe(false);
    expect(
      controller.logs.some((l) => l.spec === name && l.msg === "action failed; not retried until something changes"),
    ).toBe(true);
  });
});
