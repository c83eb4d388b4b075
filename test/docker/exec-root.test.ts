/**
 * Finding 14a against a real engine: under --policy restricted, an exec may not run as root
 * through any surface — the HTTP API, docker-spawner's /exec, `berth exec` — whether it names
 * root (`0`, `root`, `0:0`) or names no user in a container that runs as root. The refused
 * command would have left a mark in the container; the mark is never there.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  berth,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  testIds,
  waitContainers,
} from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
let controller: RunningBerth | null = null;
afterEach(async () => {
  await controller?.stop();
  controller = null;
});

const TOKEN = randomBytes(16).toString("hex");
const HARDENED = "securityContext: { noNewPrivileges: true, capDrop: [ALL] }";

/** Whether the file exists in the container (asked of the engine directly, as root). */
async function exists(container: string, file: string): Promise<boolean> {
  const exec = await docker.getContainer(container).exec({ Cmd: ["test", "-e", file], User: "0" });
  await exec.start({ Detach: true });
  let code: number | null = null;
  await pollUntil(async () => {
    const info = await exec.inspect();
    code = info.Running ? null : info.ExitCode;
    return code !== null;
  }, 10_000);
  return code === 0;
}

/** An e2e spec labelled as a docker-spawner agent. */
function agentSpec(name: string, extra: readonly string[]): string {
  return e2eSpec(name, extra).replace(`  name: ${name}\n`, `  name: ${name}\n  labels: { com.tidepool.role: agent }\n`);
}

describe("exec as root under --policy restricted (finding 14a)", () => {
  it("is refused through the HTTP API, docker-spawner's /exec and berth exec; a non-root exec runs", async () => {
    const c = id("exec-root");
    // Both are docker-spawner agents (name and role label), so /exec reaches them too.
    const agent = `tidepool-agent-xroot${process.pid}-a`; // runs as 1000:1000
    const legacy = `tidepool-agent-xroot${process.pid}-l`; // made under baseline, runs as root
    const dir = specDir({
      "agent.yaml": agentSpec(agent, ['user: "1000:1000"', HARDENED]),
      "legacy.yaml": agentSpec(legacy, [HARDENED]),
    });
    // The legacy container is made while the policy is baseline; tightening it never removes it.
    const apply = await berth(["apply", "--id", c, "--specs", dir, "--timeout", "60s"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);

    const tokenFile = path.join(tempDir(), "token");
    writeFileSync(tokenFile, TOKEN);
    controller = await startBerth([
      "--id",
      c,
      "--specs",
      dir,
      "--policy",
      "restricted",
      "--api-token-file",
      tokenFile,
      "--runtime-specs",
      tempDir("berth-runtime-"),
      "--compat",
      "docker-spawner",
      "--spawn-image",
      "berth-test/busybox:latest",
    ]);
    await waitContainers(c, "two containers running", (cs) => cs.filter((x) => x.state === "running").length === 2);
    const url = controller.url;
    const post = async (route: string, body: unknown) => {
      const response = await fetch(`${url}${route}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const mark = (n: number): string[] => ["sh", "-c", `touch /tmp/pwned-${n}; id -u`];

    let n = 0;
    for (const [route, target, user] of [
      ["/v1/containers/NAME/exec", agent, "0"],
      ["/v1/containers/NAME/exec", agent, "root"],
      ["/v1/containers/NAME/exec", agent, "0:0"],
      ["/v1/containers/NAME/exec", legacy, undefined],
      ["/exec/NAME", agent, "0"],
      ["/exec/NAME", legacy, undefined],
    ] as const) {
      n++;
      const refused = await post(route.replace("NAME", target), { cmd: mark(n), ...(user ? { user } : {}) });
      expect([route, user, refused.status]).toEqual([route, user, 403]);
      expect(String(refused.json.error)).toContain("exec-as-non-root");
      expect(await exists(target, `/tmp/pwned-${n}`)).toBe(false);
    }

    // berth exec, the operator's CLI, under the same policy.
    n++;
    const cli = await berth(["exec", "--id", c, "--policy", "restricted", "-u", "0", agent, "--", ...mark(n)]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("exec-as-non-root");
    expect(await exists(agent, `/tmp/pwned-${n}`)).toBe(false);

    // Non-root execs run: the container's own user, and a named non-root user in the root container.
    const own = await post(`/v1/containers/${agent}/exec`, { cmd: ["id", "-u"] });
    expect([own.status, own.json.stdout]).toEqual([200, "1000\n"]);
    const named = await post(`/v1/containers/${legacy}/exec`, { cmd: ["id", "-u"], user: "1000:1000" });
    expect([named.status, named.json.stdout]).toEqual([200, "1000\n"]);
    // Under baseline (the default) the user is the caller's choice, as before.
    const baseline = await berth(["exec", "--id", c, "-u", "0", agent, "--", "id", "-u"]);
    expect([baseline.code, baseline.stdout]).toEqual([0, "0\n"]);
  });
});
