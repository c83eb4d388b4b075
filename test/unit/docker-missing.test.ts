/**
 * `npm test` on a machine without a Docker engine: the unit project runs and reports, and every
 * file of the docker project fails with one line that says why and what to do, under CI=true as
 * anywhere (a missing engine is a failure, never a skip). Run as a user would, as a child vitest
 * whose DOCKER_HOST names a socket that does not exist.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/tmp.js";

/** Two small files, one per project; the docker one would call the engine if it ran. */
const UNIT_FILE = "test/unit/loop/network.test.ts";
const DOCKER_FILES = ["test/docker/engine.test.ts", "test/docker/cli-entry.test.ts"];

describe("npm test without a Docker engine", () => {
  it("runs the unit project and fails each docker file with one line naming the socket", () => {
    const socket = path.join(tempDir(), "missing.sock");
    // The child is a vitest of its own: none of this worker's VITEST_* variables.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")));
    const run = spawnSync("npx", ["vitest", "run", UNIT_FILE, ...DOCKER_FILES], {
      encoding: "utf8",
      env: { ...env, DOCKER_HOST: `unix://${socket}`, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      timeout: 90_000,
    });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(1);
    expect(output).toMatch(new RegExp(`✓ +\\|unit\\| ${UNIT_FILE}`));
    for (const file of DOCKER_FILES) expect(output).toContain(`FAIL  |docker| ${file}`);
    expect(output).toMatch(/Test Files +2 failed \| 1 passed \(3\)/);
    // The reason: one line, printed once for both files, no stack frames.
    const reason = `Error: Docker engine not reachable at ${socket} (ENOENT): start dockerd (bash scripts/ensure-docker.sh)`;
    expect(output.split("\n").filter((line) => line.includes("Docker engine"))).toEqual([reason]);
    expect(output).not.toMatch(/❯ .*:\d+:\d+/);
  }, 120_000);
});
