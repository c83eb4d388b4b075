/**
 * `apply --ha --ha-wait` behind a leader that does not let go: it says at once that it waits, and
 * for whom, and its refusal at the end does not advise the --ha-wait it was given. On a file store
 * in a temporary folder, with a real election leading beside it.
 */
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { participate, type Participation, withLease } from "../../../src/cli/ha.js";
import type { Config, HaConfig } from "../../../src/config.js";
import { oneShotVerdict } from "../../../src/core/writers.js";
import { pollUntil } from "../../support/poll.js";
import { tempDir } from "../../support/tmp.js";

const log = pino({ level: "silent" });
const joined: Participation[] = [];
afterEach(async () => {
  for (const group of joined.splice(0)) await group.stop();
});

function ha(file: string, waitMs: number): HaConfig {
  return {
    target: { kind: "file", path: file },
    timing: { ttlMs: 2_000, renewMs: 500 },
    passwordFile: null,
    waitMs,
    advertise: null,
  };
}

describe("apply --ha --ha-wait behind a leader", () => {
  it("says it waits, for whom, and does not advise the --ha-wait it was given", async () => {
    const config = { stateDir: tempDir(), controllerId: "web" } as unknown as Config;
    const file = path.join(tempDir(), "x.lock");
    const group = await participate(config, ha(file, 0), log, "run", () => undefined);
    joined.push(group);
    await group.leadership.start();
    expect(await pollUntil(() => group.leadership.role === "leader", 2_000)).toBe(true);
    const said: string[] = [];
    const applying = withLease(
      config,
      ha(file, 700),
      log,
      "apply",
      () => Promise.resolve("wrote"),
      (line) => {
        said.push(line);
      },
    );
    await expect(applying).rejects.toMatchObject({ code: "BERTH_LEASE_HELD" });
    const error = (await applying.catch((err: unknown) => err)) as Error;
    expect(error.message).toMatch(
      /is held by .* \(waited --ha-wait 700ms\); apply writes only holding it. Stop that berth \(SIGTERM lets the lease go at once\), or try again later$/,
    );
    expect(error.message).not.toMatch(/wait for it with --ha-wait/);
    expect(said).toEqual([
      expect.stringMatching(
        new RegExp(`^apply --ha: waiting up to 700ms \\(--ha-wait\\) for the lease held by .*/run/.* in file:${file}$`),
      ),
    ]);
  });

  it("without --ha-wait, is refused at once, advising it", () => {
    const view = {
      leading: false,
      holdsLease: false,
      leader: "h/1/run/abc",
      store: "file:/x.lock",
      storeError: null,
      blockedBy: null,
    };
    const verdict = oneShotVerdict(view, "web", "apply", false);
    expect(verdict.kind === "refuse" && verdict.error.message).toMatch(/or wait for it with --ha-wait <duration>/);
  });
});
