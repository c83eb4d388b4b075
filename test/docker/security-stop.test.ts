/**
 * Issue 14, finding 7, end to end on the real engine: a long stop cannot hold the controller.
 * The attack: a spec whose process ignores SIGTERM, with a long stopTimeout; while berth stops it
 * (a replacement), every other spec used to wait for the stop's whole timeout under
 * --concurrency 1. Now stops hold no slot, always carry an explicit timeout (the current spec's,
 * not the one the container was created with), and stopTimeout has a ceiling.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  containersOf,
  type RunningBerth,
  specDir,
  signalled,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";
import { specText } from "../support/specs.js";

const id = testIds();
let controller: RunningBerth | undefined;

// kill -9: berth run waits for the engine's answer to a stop in flight before it exits, and these
// tests leave one in flight on purpose (testIds then removes the containers).
afterEach(async () => {
  await controller?.kill9();
  controller = undefined;
});

/** PID 1 without an init ignores SIGTERM: only the kill at the end of the stop timeout ends it. */
const stubborn = (name: string, extra: readonly string[]): string =>
  specText(name, { image: TEST_IMAGE, extra: ['command: ["sleep", "infinity"]', ...extra] });

const quick = (name: string): string =>
  specText(name, { image: TEST_IMAGE, extra: ['command: ["sleep", "infinity"]', "init: true", "stopTimeout: 1s"] });

describe("stops on the real engine", () => {
  it("refuses a stopTimeout above --max-stop-timeout (default 10m)", async () => {
    const dir = specDir({ "s.yaml": stubborn("e2e-stop-limit", ["stopTimeout: 1000h"]) });
    const refused = await berth(["validate", dir]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `${dir}/s.yaml:8:16: spec.stopTimeout: 1000h is above the limit of 10m (--max-stop-timeout) [the resource limits: max-stop-timeout]`,
    );
    expect((await berth(["validate", "--max-stop-timeout", "1000h", dir])).code).toBe(0);
  });

  it("with --concurrency 1, creates another spec while a replaced container waits out a 5m stop", async () => {
    const c = id("stop-slot");
    const slow = `${c}-stubborn`;
    const dir = specDir({ "stubborn.yaml": stubborn(slow, ["stopTimeout: 5m"]) });
    controller = await startBerth(["--id", c, "--specs", dir, "--concurrency", "1"]);
    const [old] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );

    // A new version: StartFirst makes the new container, then stops the old one (5m: it ignores TERM).
    const since = Math.floor(Date.now() / 1000) - 1;
    writeFileSync(path.join(dir, "stubborn.yaml"), stubborn(slow, ["stopTimeout: 5m", "env: { VERSION: '2' }"]));
    // The stop has begun when the engine has signalled the old container.
    expect(await pollUntil(() => signalled(old?.id ?? "", since), 60_000, 250)).toBe(true);

    // Meanwhile another spec arrives: it must not wait for the stop.
    writeFileSync(path.join(dir, "other.yaml"), quick(`${c}-other`));
    const seen = await waitContainers(
      c,
      "its container running",
      (cs) => cs.some((x) => x.name === `${c}-other` && x.state === "running"),
      { timeoutMs: 60_000 },
    );
    expect(seen.some((x) => x.name === `${c}-other` && x.state === "running")).toBe(true);
    // The old container is still being stopped: the stop really is long, and ran alongside.
    expect((await containersOf(c)).find((x) => x.id === old?.id)?.state).toBe("running");
  });

  it("stops a replaced container with the current spec's timeout, not the one it was created with", async () => {
    const c = id("stop-t");
    const name = `${c}-svc`;
    const dir = specDir({ "svc.yaml": stubborn(name, ["stopTimeout: 9m"]) });
    controller = await startBerth(["--id", c, "--specs", dir]);
    const [old] = await waitContainers(
      c,
      "one container running",
      (cs) => cs.length === 1 && cs[0]?.state === "running",
    );

    // The old container was created with StopTimeout 540 s; the new version says 1s.
    writeFileSync(path.join(dir, "svc.yaml"), stubborn(name, ["stopTimeout: 1s", "env: { VERSION: '2' }"]));
    const after = await waitContainers(
      c,
      "the replacement running under the spec's name",
      (cs) => cs.length === 1 && cs[0]?.id !== old?.id && cs[0]?.name === name && cs[0]?.state === "running",
      { timeoutMs: 60_000 },
    );
    expect(after.map((x) => x.name)).toEqual([name]);
  });
});
