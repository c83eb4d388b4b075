/**
 * The installed entry point, bin/berth.js, as `npm run build` leaves it. It lives in this project
 * although it needs no engine: this project's globalSetup builds dist/ before its first file and
 * runs its files one at a time, so dist/ is never rewritten while a test runs it (the unit project,
 * which vitest runs alongside, neither builds nor runs dist/).
 *
 * bin/berth.js runs the bundle in dist/bundle/ (scripts/bundle.mjs), where some modules stand in
 * for others until first used: the tests below use each kind once through the bundle. It runs it
 * with V8's code cache of the command in the user's cache folder (src/cli/code-cache.ts).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, testIds } from "../support/e2e.js";
import { tempDir } from "../support/tmp.js";

describe("the installed entry point (bin/berth.js after npm run build)", () => {
  it("validates the bundled specs and fails on a broken folder", () => {
    const ok = spawnSync(process.execPath, [BIN, "validate", "specs/"], { encoding: "utf8" });
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, "ok: 4 files, 5 specs, all valid\n", ""]);
    const dir = tempDir();
    writeFileSync(path.join(dir, "bad.yaml"), "kind: Pod\n");
    const bad = spawnSync(process.execPath, [BIN, "validate", dir], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`${dir}/bad.yaml:1:1: missing required field "apiVersion"`);
    const help = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("validate");
    // --version alone is answered without the bundle; with more arguments, commander answers.
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    for (const args of [["--version"], ["-V"], ["--version", "--log-level", "error"]]) {
      const res = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
      expect([res.status, res.stdout, res.stderr]).toEqual([0, `${version}\n`, ""]);
    }
  });
});

describe("output to a pipe read slowly", () => {
  it("is written whole before berth exits, past the pipe's 64 KiB", () => {
    // 200 services of 200-byte values: the YAML stream is about 85 KB, more than a pipe holds.
    const dir = tempDir();
    const services = Array.from(
      { length: 200 },
      (_, i) => `  s${i}:\n    image: busybox:latest\n    environment:\n      A: "${"x".repeat(200)}"\n`,
    );
    writeFileSync(path.join(dir, "compose.yaml"), `services:\n${services.join("")}`);
    const direct = spawnSync(process.execPath, [BIN, "import", "compose", "compose.yaml"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(direct.status).toBe(0);
    expect(direct.stdout.length).toBeGreaterThan(80_000);
    // The reader starts reading only after a second: berth has long finished writing by then.
    const piped = spawnSync(
      "sh",
      ["-c", `"${process.execPath}" "${BIN}" import compose compose.yaml 2>/dev/null | (sleep 1; cat)`],
      { cwd: dir, encoding: "utf8", maxBuffer: 1 << 24 },
    );
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(direct.stdout);
  });
});

describe("the code cache (src/cli/code-cache.ts)", () => {
  const ids = testIds();
  /** The environment without the variables that place or turn off the cache, plus `extra`. */
  const envWith = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !["XDG_CACHE_HOME", "HOME", "NODE_DISABLE_COMPILE_CACHE"].includes(k),
      ),
    ),
    ...extra,
  });
  const cacheFiles = (root: string): string[] =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();

  it("is kept per command under XDG_CACHE_HOME, and a command from the cache says the same", () => {
    const xdg = tempDir();
    const env = envWith({ XDG_CACHE_HOME: xdg });
    const runs = [1, 2].map(() => spawnSync(process.execPath, [BIN, "validate", "specs/"], { encoding: "utf8", env }));
    for (const res of runs) {
      expect([res.status, res.stdout, res.stderr]).toEqual([0, "ok: 4 files, 5 specs, all valid\n", ""]);
    }
    // status asks a controller first: the bundle's import() of node:http, from the cache.
    const status = [1, 2].map(() =>
      spawnSync(
        process.execPath,
        [BIN, "status", "--server", "http://127.0.0.1:1", "--id", ids("cache"), "-o", "json"],
        {
          encoding: "utf8",
          env,
        },
      ),
    );
    for (const res of status) expect([res.status, res.stderr]).toEqual([0, ""]);
    expect(status[1]?.stdout).toBe(status[0]?.stdout);
    // A mistyped command leaves no cache of its own.
    const typo = spawnSync(process.execPath, [BIN, "stauts"], { encoding: "utf8", env });
    expect(typo.status).toBe(1);
    expect(cacheFiles(xdg).filter((n) => n.endsWith(".v8"))).toEqual(["status.v8", "validate.v8"]);
  });

  it("keeps verdicts on valid spec files beside it, and judges a changed file or policy afresh", () => {
    const xdg = tempDir();
    const env = envWith({ XDG_CACHE_HOME: xdg });
    const dir = tempDir();
    const spec = (memory: string): string =>
      `apiVersion: berth/v1\nkind: Container\nmetadata: { name: v }\nspec:\n  image: x\n  resources: { memory: ${memory} }\n`;
    writeFileSync(path.join(dir, "v.yaml"), spec("2Gi"));
    const validate = (...flags: string[]) =>
      spawnSync(process.execPath, [BIN, "validate", dir, ...flags], { encoding: "utf8", env });
    for (let i = 0; i < 2; i++) {
      const res = validate();
      expect([res.status, res.stdout, res.stderr]).toEqual([0, "ok: 1 file, 1 spec, all valid\n", ""]);
    }
    const stores = cacheFiles(xdg).filter((n) => n.startsWith("verdicts-"));
    expect(stores).toHaveLength(1);
    // The same bytes under another policy, then other bytes: judged again, with the position.
    const refused = validate("--max-memory", "1Gi");
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`${dir}/v.yaml:6:`);
    writeFileSync(path.join(dir, "v.yaml"), spec("lots"));
    const broken = validate();
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`${dir}/v.yaml:6:`);
    writeFileSync(path.join(dir, "v.yaml"), spec("2Gi"));
    expect(validate().status).toBe(0);
  });

  it("is off with NODE_DISABLE_COMPILE_CACHE, and without a home the command runs uncached", () => {
    const home = tempDir();
    const off = spawnSync(process.execPath, [BIN, "validate", "specs/"], {
      encoding: "utf8",
      env: envWith({ HOME: home, NODE_DISABLE_COMPILE_CACHE: "1" }),
    });
    expect([off.status, off.stdout]).toEqual([0, "ok: 4 files, 5 specs, all valid\n"]);
    expect(cacheFiles(home)).toEqual([]);
    const homeless = spawnSync(process.execPath, [BIN, "validate", "specs/"], { encoding: "utf8", env: envWith({}) });
    expect([homeless.status, homeless.stdout, homeless.stderr]).toEqual([0, "ok: 4 files, 5 specs, all valid\n", ""]);
  });
});

describe("the bundle's stand-ins (modules loaded on first use)", () => {
  const ids = testIds();
  /** Run before bin/berth.js: prints, at exit, how many files of the deferred packages were loaded. */
  const COUNT_LOADED = `data:text/javascript,${encodeURIComponent(
    'import { createRequire } from "node:module"; const r = createRequire(process.cwd() + "/x.js");' +
      'process.on("exit", () => process.stderr.write("deferred loaded: " + Object.keys(r.cache)' +
      '.filter((f) => /node_modules[\\/](ssh2|@grpc|protobufjs)[\\/]/.test(f)).length + "\\n"));',
  )}`;

  it("a command that talks to the engine loads neither ssh2 nor gRPC", () => {
    const res = spawnSync(
      process.execPath,
      ["--import", COUNT_LOADED, BIN, "status", "--server", "off", "--id", ids("standins")],
      {
        encoding: "utf8",
      },
    );
    expect(res.status).toBe(0);
    expect(res.stderr).toContain("deferred loaded: 0\n");
  });

  it("pino-pretty, required at the first line, writes it", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "bad.yaml"), "kind: Pod\n");
    const res = spawnSync(
      process.execPath,
      [
        BIN,
        "status",
        "--server",
        "off",
        "--id",
        ids("pretty"),
        "--specs",
        dir,
        "--log-level",
        "warn",
        "--log-format",
        "pretty",
      ],
      { encoding: "utf8" },
    );
    expect(res.status).toBe(0);
    // One human line per event (no time on a one-shot command's stderr), fields after the message.
    expect(res.stderr).toMatch(/^WARN: spec file invalid file=\S+bad\.yaml line=1 column=1 /m);
  });

  it("docker-modem's ssh:// transport loads when DOCKER_HOST asks for it", () => {
    const res = spawnSync(
      process.execPath,
      ["--import", COUNT_LOADED, BIN, "status", "--server", "off", "--id", ids("ssh")],
      {
        encoding: "utf8",
        env: { ...process.env, DOCKER_HOST: "ssh://nobody@127.0.0.1:1" },
      },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("nothing listens at ssh://nobody@127.0.0.1:1 (ECONNREFUSED)");
    expect(res.stderr).toMatch(/deferred loaded: [1-9]\d*\n/);
  });
});
