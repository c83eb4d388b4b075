/**
 * Hostile input never hurts, end to end with `berth run` against the real engine: a spec folder
 * holding a symlink loop, a dangling link, a FIFO, a device node, an unreadable file, a file that
 * changes while it is read, 10 000 files, a 100 MB file, deep nesting, an alias bomb, NUL bytes
 * and invalid UTF-8. The controller stays up, the valid spec converges, every bad file is refused
 * with a message naming it, and memory stays bounded.
 *
 * berth runs as uid 1000 in a user namespace mapped to root outside, so that a mode-000 file is
 * unreadable to it (root reads anything) while the Docker socket, owned by root, stays usable.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../support/poll.js";
import { cleanup, e2eSpec, type RunningBerth, specDir, startBerth, testId, waitContainers } from "../support/e2e.js";

const ID = testId("hostile");
let controller: RunningBerth | undefined;
let churn: NodeJS.Timeout | undefined;

afterEach(async () => {
  if (churn) clearInterval(churn);
  await controller?.stop();
  controller = undefined;
  await cleanup(ID);
});

/** Peak resident memory of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

describe("a spec folder full of hostile entries", () => {
  it("keeps berth up, converges the valid spec and names every refused file", async () => {
    const good = `${ID}-good`;
    const later = `${ID}-later`;
    const dir = specDir({ "good.yaml": e2eSpec(good) });
    const at = (name: string): string => path.join(dir, name);

    mkdirSync(at("loop"));
    symlinkSync("..", at("loop/again"));
    symlinkSync("missing.yaml", at("dangling.yaml"));
    execFileSync("mkfifo", [at("pipe.yaml")]);
    execFileSync("mknod", [at("device.yaml"), "c", "1", "3"]);
    writeFileSync(at("unreadable.yaml"), e2eSpec(`${ID}-secret`));
    chmodSync(at("unreadable.yaml"), 0o000);
    writeFileSync(at("big.yaml"), "");
    truncateSync(at("big.yaml"), 100 * 1024 * 1024);
    writeFileSync(at("deep.yaml"), `${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      bomb.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    writeFileSync(at("bomb.yaml"), `${bomb.join("\n")}\n`);
    writeFileSync(at("nul.yaml"), Buffer.concat([Buffer.from("apiVersion: berth/v1\n"), Buffer.from([0, 1, 2])]));
    writeFileSync(at("latin1.yaml"), Buffer.from([0x6b, 0x3a, 0x20, 0xe9, 0x74, 0xe9, 0x0a]));
    mkdirSync(at("many"));
    for (let i = 0; i < 10_000; i++) writeFileSync(at(`many/noise-${i}.yaml`), "# an empty spec file\n");
    // A file rewritten all the time, alternately whole and cut short.
    const churnText = e2eSpec(`${ID}-churn`);
    let flip = 0;
    churn = setInterval(() => {
      writeFileSync(at("churn.yaml"), flip++ % 2 === 0 ? churnText : churnText.slice(0, churnText.length / 2));
    }, 5);

    controller = await startBerth(
      ["--id", ID, "--specs", dir],
      {},
      {
        wrap: ["unshare", "--user", "--map-user=1000", "--map-group=1000", "--"],
      },
    );
    const explain = (): string => controller?.recentLogs() ?? "";
    await waitContainers(ID, `${good} running`, (cs) => cs.some((c) => c.name === good && c.state === "running"), {
      timeoutMs: 120_000,
      explain,
    });

    const refused = (file: string): boolean =>
      controller?.logs.some((l) => l.msg === "spec file invalid" && String(l.file).endsWith(file)) ?? false;
    const expected: [string, RegExp][] = [
      ["dangling.yaml", /cannot follow this symbolic link: does not exist/],
      ["pipe.yaml", /is a FIFO, not a regular file/],
      ["device.yaml", /is a device, not a regular file/],
      ["unreadable.yaml", /cannot be read: permission denied/],
      ["big.yaml", /is 100 MiB, above the 1 MiB limit/],
      ["deep.yaml", /nests deeper than 32 levels/],
      ["bomb.yaml", /YAML aliases/],
      ["nul.yaml", /NUL byte/],
      ["latin1.yaml", /not valid UTF-8/],
      ["many/noise-0.yaml", /holds no documents/],
      ["many/noise-9999.yaml", /holds no documents/],
    ];
    expect(await pollUntil(() => expected.every(([file]) => refused(file)), 60_000)).toBe(true);
    for (const [file, message] of expected) {
      const line = controller.logs.find((l) => l.msg === "spec file invalid" && String(l.file).endsWith(file));
      expect(String(line?.err), file).toMatch(message);
    }

    // Still working: a spec added now converges, the process is alive, memory stayed bounded
    // (reading the 100 MB file, or expanding the bomb, would have shown here).
    writeFileSync(at("later.yaml"), e2eSpec(later));
    await waitContainers(ID, `${later} running`, (cs) => cs.some((c) => c.name === later && c.state === "running"), {
      timeoutMs: 120_000,
      explain,
    });
    expect(controller.child.exitCode).toBeNull();
    expect(peakRssMiB(controller.child.pid as number)).toBeLessThan(512);
    expect(controller.logs.filter((l) => l.level === 50 || l.level === 60)).toEqual([]);
    clearInterval(churn);
    churn = undefined;
    expect(await controller.stop()).toBe(0);
  }, 300_000);
});
