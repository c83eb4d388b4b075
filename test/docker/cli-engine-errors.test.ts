/**
 * Every one-shot command, run as a user runs it (bin/berth.js), when there is no engine to talk
 * to: no socket, a socket that accepts and never answers, a socket this user may not open, and
 * an HTTP server that is not Docker. Each ends by itself (it is killed only if it outlives its
 * deadline by far), exits 1, and says one line: what happened, what fixes it, and the code.
 * Durations are measured and printed, not asserted tightly.
 */
import { chmodSync, chownSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type BoundedCliResult, berthWithin, e2eSpec, specDir, testIds } from "../support/e2e.js";
import { FaultProxy } from "../support/fault-proxy.js";
import { tempDir } from "../support/tmp.js";

const ids = testIds();

/** Far above any deadline here: a process still running then is hung. */
const KILL_MARGIN_MS = 30_000;
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

const measured: string[] = [];
afterAll(() => {
  console.info(`time to exit, per command:\n${measured.join("\n")}`);
});

/** The one-shot commands that talk to Docker, each as it would name the spec "web". */
const COMMANDS: readonly (readonly string[])[] = [
  ["plan"],
  ["status", "--server", "off"],
  ["get", "web", "--server", "off"],
  ["reap"],
  ["exec", "web", "--", "true"],
  ["logs", "web"],
];

const READS_NO_SPECS = new Set(["exec", "logs"]);

function withoutSpecs(flags: readonly string[]): string[] {
  const i = flags.indexOf("--specs");
  return i < 0 ? [...flags] : [...flags.slice(0, i), ...flags.slice(i + 2)];
}

interface Case {
  readonly label: string;
  readonly env: Record<string, string>;
  readonly wrap?: readonly string[];
}

/** Runs `berth ARGS --specs … --id …` and checks it ended with exit 1 and one line on stderr. */
async function expectOneLine(
  c: Case,
  args: readonly string[],
  common: readonly string[],
  deadlineMs: number,
  line: RegExp,
): Promise<BoundedCliResult> {
  // The common flags right after the command: exec's `-- CMD` must stay last.
  const [command = "", ...rest] = args;
  // exec and logs read no specs: they take no --specs.
  const flags = READS_NO_SPECS.has(command) ? withoutSpecs(common) : common;
  const result = await berthWithin([command, ...flags, ...rest], c.env, {
    killAfterMs: deadlineMs + KILL_MARGIN_MS,
    ...(c.wrap ? { wrap: c.wrap } : {}),
  });
  measured.push(
    `  ${c.label}: berth ${args.join(" ")}: ${Math.round(result.elapsedMs)} ms (deadline ${deadlineMs} ms)`,
  );
  expect(
    { killed: result.killed, code: result.code, stderr: result.stderr.trimEnd().split("\n") },
    `berth ${args.join(" ")}\n${result.stdout}${result.stderr}`,
  ).toEqual({ killed: false, code: 1, stderr: [expect.stringMatching(line)] });
  return result;
}

/** Closes a server this test started, if it started one. */
async function closed(server: net.Server | undefined): Promise<void> {
  if (server) await new Promise((resolve) => server.close(resolve));
}

function common(name: string, extra: readonly string[] = []): string[] {
  return ["--specs", specDir({ "web.yaml": e2eSpec("web") }), "--id", ids(name), ...extra];
}

describe("one-shot commands without an engine", () => {
  it("no socket: each command says so at once, validate still works", async () => {
    const c: Case = { label: "no socket", env: { DOCKER_HOST: `unix://${tempDir()}/nope.sock` } };
    const line =
      /^berth: no Docker engine at unix:\/\/.*\/nope\.sock: .*\/nope\.sock does not exist; .*\[BERTH_DOCKER_UNREACHABLE\]$/;
    const flags = common("nosock");
    await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
    for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
    const valid = await berthWithin(["validate", flags[1] as string], c.env, { killAfterMs: KILL_MARGIN_MS });
    expect([valid.code, valid.stdout]).toEqual([0, "ok: 1 file, 1 spec, all valid\n"]);
  });

  it("a DOCKER_HOST of a scheme berth cannot use: refused at once, with the forms that work", async () => {
    const flags = common("bogus-scheme");
    for (const host of ["bogus://x", "tcp://"]) {
      const c: Case = { label: host, env: { DOCKER_HOST: host } };
      const line = new RegExp(
        `^berth: DOCKER_HOST ${host.replace(/[/.]/g, "\\$&")} (has a scheme berth cannot use \\(bogus://\\)|names no host): set it to unix:///PATH/TO/docker\\.sock, tcp://HOST:PORT \\(or http://, https://\\) or ssh://USER@HOST, or unset it for unix:///var/run/docker\\.sock \\[BERTH_DOCKER_HOST\\]$`,
      );
      await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
      for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
    }
  });

  it("a tcp:// host name that does not resolve: names the host and what fixes it", async () => {
    // .invalid never resolves (RFC 2606); without a DNS server at all the lookup says EAI_AGAIN.
    const c: Case = { label: "unresolvable", env: { DOCKER_HOST: "tcp://berth-nope.invalid:2375" } };
    const line =
      /^berth: the host name berth-nope\.invalid in DOCKER_HOST tcp:\/\/berth-nope\.invalid:2375 (does not resolve \(ENOTFOUND\)|could not be resolved \(EAI_AGAIN).*: .*set DOCKER_HOST to a valid host name or address of the engine .*\[BERTH_DOCKER_UNRESOLVED\]$/;
    const flags = common("unresolvable");
    await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
    for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
  });

  describe("a socket that accepts and never answers", () => {
    const sockets = new Set<net.Socket>();
    let server: net.Server | undefined;
    afterEach(async () => {
      for (const s of sockets) s.destroy();
      await closed(server);
      server = undefined;
    });

    async function silentSocket(): Promise<string> {
      const file = path.join(tempDir(), "silent.sock");
      server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on("error", () => undefined);
      });
      await new Promise<void>((resolve) => server?.listen(file, resolve));
      return file;
    }

    it("apply ends at its --timeout, and says which deadline passed", async () => {
      const c: Case = { label: "silent", env: { DOCKER_HOST: `unix://${await silentSocket()}` } };
      await expectOneLine(
        c,
        ["apply", "--timeout", "3s"],
        common("silent-apply"),
        3_000,
        /^berth: no answer from the Docker engine at unix:\/\/.*silent\.sock within 3s \(apply --timeout\): .*\[BERTH_DOCKER_NO_ANSWER\]$/,
      );
      // Shorter than --timeout, the call deadline ends it first.
      await expectOneLine(
        c,
        ["apply", "--timeout", "5m"],
        common("silent-apply2", ["--docker-timeout", "2s"]),
        2_000,
        /^berth: no answer from the Docker engine at .* to the ping call within 2s \(--docker-timeout \/ BERTH_DOCKER_TIMEOUT\): .*\[BERTH_DOCKER_NO_ANSWER\]$/,
      );
    });

    it("apply ends at its --timeout when the engine answers ping but not the list", async () => {
      const proxy = await FaultProxy.start();
      try {
        proxy.add({ method: "GET", path: /^\/containers\/json/, decision: "stall" });
        await expectOneLine(
          { label: "list stalled", env: { DOCKER_HOST: proxy.dockerHost } },
          ["apply", "--timeout", "4s"],
          common("stalled-list", ["--docker-timeout", "5m"]),
          4_000,
          /^berth: no answer from the Docker engine at unix:\/\/.* within 4s \(apply --timeout\): .*\[BERTH_DOCKER_NO_ANSWER\]$/,
        );
        expect(proxy.count("GET", /^\/containers\/json/)).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    });

    it("every other command ends at the Docker call deadline", async () => {
      const c: Case = { label: "silent", env: { DOCKER_HOST: `unix://${await silentSocket()}` } };
      const flags = common("silent", ["--docker-timeout", "2s"]);
      const line =
        /^berth: no answer from the Docker engine at unix:\/\/.*silent\.sock to the \w+ call within 2s \(--docker-timeout \/ BERTH_DOCKER_TIMEOUT\): .*\[BERTH_DOCKER_NO_ANSWER\]$/;
      for (const args of COMMANDS) await expectOneLine(c, args, flags, 2_000, line);
    });
  });

  describe("a socket this user may not open (run as uid 65534)", () => {
    let server: net.Server | undefined;
    afterEach(async () => {
      await closed(server);
      server = undefined;
    });

    it("says permission denied, whose socket, and what fixes it", async () => {
      expect(process.getuid?.(), "this test drops privileges with setpriv: run it as root").toBe(0);
      const dir = tempDir();
      chmodSync(dir, 0o755);
      const file = path.join(dir, "root-only.sock");
      server = net.createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server?.listen(file, resolve));
      chownSync(file, 0, 0);
      chmodSync(file, 0o600);
      // Where apply, as uid 65534, keeps its host lock.
      const stateDir = tempDir();
      chmodSync(stateDir, 0o777);
      const c: Case = {
        label: "EACCES",
        env: { DOCKER_HOST: `unix://${file}`, BERTH_STATE_DIR: stateDir },
        wrap: NOBODY,
      };
      const line =
        /^berth: permission denied on the Docker socket .*root-only\.sock \(owner uid 0, group root, mode 0600\) for uid 65534: only its owner may open it; .*or set DOCKER_HOST to an engine this user may use \[BERTH_DOCKER_PERMISSION\]$/;
      const flags = common("eacces");
      chmodSync(flags[1] as string, 0o755); // the spec folder, readable by uid 65534
      await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
      for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
      // The engine's own socket (root:docker 0660): the group, or --group-add in a container.
      await expectOneLine(
        { label: "EACCES docker.sock", env: { ...c.env, DOCKER_HOST: "unix:///var/run/docker.sock" }, wrap: NOBODY },
        ["plan"],
        flags,
        30_000,
        /^berth: permission denied on the Docker socket \/var\/run\/docker\.sock \(owner uid 0, group \w+, mode 0660\) for uid 65534: (add the user to \w+ \(sudo usermod -aG \w+ USER|run berth's container with --group-add \d+ ).*\[BERTH_DOCKER_PERMISSION\]$/,
      );
    });
  });

  describe("an HTTP server that is not Docker", () => {
    let server: http.Server | undefined;
    afterEach(async () => {
      await closed(server);
      server = undefined;
    });

    it("says it is not a Docker engine", async () => {
      server = http.createServer((_req, res) => {
        res.writeHead(404);
        res.end();
      });
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as net.AddressInfo;
      const c: Case = { label: "HTTP 404", env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } };
      const line = new RegExp(
        `^berth: the server at tcp://127\\.0\\.0\\.1:${port} is not a Docker engine: it answered the \\w+ call with HTTP 404 and no Docker error; set DOCKER_HOST to the engine .*\\[BERTH_DOCKER_NOT_ENGINE\\]$`,
      );
      const flags = common("http404");
      await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
      for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
    });

    it("says it is not a Docker engine when it answers 200 with a web page", async () => {
      server = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>It works!</body></html>");
      });
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as net.AddressInfo;
      const c: Case = { label: "HTTP 200 page", env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } };
      const line = new RegExp(
        `^berth: the server at tcp://127\\.0\\.0\\.1:${port} is not a Docker engine: it answered the \\w+ call with HTTP 200 and a body that is not Docker's JSON; set DOCKER_HOST to the engine .*\\[BERTH_DOCKER_NOT_ENGINE\\]$`,
      );
      const flags = common("http200");
      await expectOneLine(c, ["apply", "--timeout", "15s"], flags, 15_000, line);
      for (const args of COMMANDS) await expectOneLine(c, args, flags, 30_000, line);
    });
  });
});
