/**
 * Interactive terminals against the real engine (docs/http-api.md, "Terminals"; docs/cli.md,
 * berth exec): the native WebSocket terminal runs what is typed, follows resize messages and
 * closes with the exit status; it needs the token and never reaches a container berth does not
 * own; and `berth exec -it` under a pseudo-terminal (util-linux's `script`) gives the command a
 * TTY, passes keystrokes and exits with the command's exit code.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  BIN,
  docker,
  e2eSpec,
  type RunningBerth,
  specDir,
  startBerth,
  TEST_IMAGE,
  testIds,
  waitContainers,
} from "../support/e2e.js";

const TOKEN = `terminal-secret-${process.pid}-0123456789`;

const id = testIds();
let controller: RunningBerth | undefined;
const strangers: string[] = [];

afterEach(async () => {
  if (controller) {
    const running = controller;
    controller = undefined;
    expect(await running.stop()).toBe(0);
    expect(JSON.stringify(running.logs)).not.toContain(TOKEN);
  }
  // Containers this test made itself, outside berth: by ID, never by name.
  for (const cid of strangers.splice(0))
    await docker
      .getContainer(cid)
      .remove({ force: true })
      .catch(() => undefined);
});

interface Session {
  readonly output: string;
  /** Output frames that came as text (the native terminal sends binary only). */
  readonly textFrames: number;
  readonly code: number;
  readonly reason: string;
}

/** Opens a terminal, sends each message once the previous output settles into `until`, resolves at the close. */
function session(
  url: string,
  steps: readonly { readonly send: string; readonly until?: RegExp }[],
  headers: Record<string, string> = {},
): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let output = "";
    let textFrames = 0;
    let next = 0;
    const advance = (): void => {
      while (next < steps.length) {
        const step = steps[next];
        if (!step) return;
        if (step.until && !step.until.test(output)) return;
        next++;
        ws.send(step.send);
      }
    };
    ws.on("open", advance);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) textFrames++;
      output += data.toString("utf8");
      advance();
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on("error", reject);
    const deadline = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within 30 s; the output so far: ${JSON.stringify(output)}`));
    }, 30_000);
    ws.on("close", (code, reason) => {
      clearTimeout(deadline);
      resolve({ output, textFrames, code, reason: reason.toString("utf8") });
    });
  });
}

async function startWithBox(name: string): Promise<{ c: string; base: string; box: string }> {
  const c = id(name);
  const box = `${c}-box`;
  controller = await startBerth(["--id", c, "--specs", specDir({ "box.yaml": e2eSpec(box) })], {
    BERTH_API_TOKEN: TOKEN,
  });
  await waitContainers(c, "the box running", (cs) => cs.some((x) => x.name === box && x.state === "running"));
  return { c, base: controller.url.replace(/^http/, "ws"), box };
}

describe("GET /v1/containers/{name}/terminal", () => {
  it("runs what is typed, follows resizes, and closes with the exit status", async () => {
    const { base, box } = await startWithBox("term-ws");
    const result = await session(
      `${base}/v1/containers/${box}/terminal?command=sh&cols=100&rows=30`,
      [
        { send: "stty size\r" },
        { send: JSON.stringify({ type: "resize", cols: 132, rows: 43 }), until: /30 100/ },
        { send: "stty size\r" },
        { send: "echo hi; exit 3\r", until: /43 132/ },
      ],
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(result.output).toMatch(/\r\n30 100\r\n/);
    expect(result.output).toMatch(/\r\n43 132\r\n/);
    expect(result.output).toMatch(/\r\nhi\r\n/);
    expect([result.code, JSON.parse(result.reason)]).toEqual([1000, { exitCode: 3 }]);
    expect(result.textFrames).toBe(0);
  });

  it("takes the token as ?token= too, refuses a wrong or missing one, and never reaches a container berth does not own", async () => {
    const { base, box } = await startWithBox("term-access");
    const viaQuery = await session(`${base}/v1/containers/${box}/terminal?token=${TOKEN}`, [{ send: "exit 7\r" }]);
    expect(JSON.parse(viaQuery.reason)).toEqual({ exitCode: 7 });

    await expect(session(`${base}/v1/containers/${box}/terminal`, [])).rejects.toThrow("HTTP 401");
    await expect(session(`${base}/v1/containers/${box}/terminal?token=wrong-${TOKEN}`, [])).rejects.toThrow("HTTP 401");
    // A running container berth does not manage, by name and by ID: 404 before any upgrade.
    const stranger = await docker.createContainer({
      name: `${box}-stranger`,
      Image: TEST_IMAGE,
      Cmd: ["sleep", "infinity"],
    });
    strangers.push(stranger.id);
    await stranger.start();
    for (const ref of [`${box}-stranger`, stranger.id])
      await expect(session(`${base}/v1/containers/${ref}/terminal?token=${TOKEN}`, [])).rejects.toThrow("HTTP 404");
  });
});

/** Runs `berth exec …` under a pseudo-terminal made by util-linux's script(1), with `input` typed. */
function underPty(args: string, input = ""): Promise<{ output: string; code: number | null }> {
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} exec ${args}`;
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", reject);
    // "close": the output written before the exit may still be in the pipe at "exit".
    child.on("close", (code) => resolve({ output, code }));
    child.stdin.end(input);
  });
}

describe("berth exec -it", () => {
  it("gives the command a terminal, passes what is typed, and exits with its exit code", async () => {
    const { c, box } = await startWithBox("term-cli");
    const tty = await underPty(`-it --id ${c} ${box} -- sh -c 'tty; exit 4'`);
    expect(tty.output).toMatch(/\/dev\/pts\/\d+/);
    expect(tty.code).toBe(4);

    const typed = await underPty(`-it --id ${c} ${box} -- sh`, "echo typed-$((6*7)); exit 5\r");
    expect(typed.output).toContain("typed-42");
    expect(typed.code).toBe(5);

    // -i without -t: the standard input is passed, and there is no terminal.
    const piped = await new Promise<{ output: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "exec", "-i", "--id", c, box, "--", "sh", "-c", "cat; tty; exit 6"]);
      let output = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      child.on("close", (code) => resolve({ output, code }));
      child.stdin.end("from stdin\n");
    });
    expect(piped.output).toBe("from stdin\nnot a tty\n");
    expect(piped.code).toBe(6);
  });
});
