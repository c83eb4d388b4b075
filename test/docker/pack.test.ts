/**
 * berth outside a clone: the tarball `npm pack` makes, installed as a user installs it — globally
 * into a prefix (`npm install -g`), and as a GitOps repository's devDependency for `npx berth
 * validate` in a pre-commit hook — then run through whatever `bin` names in package.json. It lives
 * in this project because it packs dist/, which this project's globalSetup builds. The npm
 * registry is reachable but the cache usually holds every dependency: --prefer-offline.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/tmp.js";

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly bin: string | Readonly<Record<string, string>>;
  readonly files: readonly string[];
}
const PKG = JSON.parse(readFileSync("package.json", "utf8")) as PackageJson;
/** The commands the package installs, and the file each runs, as npm reads `bin`. */
const BINS: Readonly<Record<string, string>> = typeof PKG.bin === "string" ? { [PKG.name]: PKG.bin } : PKG.bin;
const INSTALL_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
const VALID = /^ok: \d+ files, \d+ specs, all valid\n$/;

/** The environment without what `npm test` sets for its own package (its prefix, its scripts). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const own = /^npm_(package_|lifecycle_|config_(local_prefix|prefix|global)$)/i;
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !own.test(k))), ...extra };
}

function run(command: string, args: readonly string[], cwd: string, env = cleanEnv()): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 180_000 });
}

const explain = (r: SpawnSyncReturns<string>): string => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

/** An installed package's engines refused by this Node (npm warns and installs anyway). */
const badEngines = (r: SpawnSyncReturns<string>): string[] =>
  r.stderr.split("\n").filter((line) => line.includes("EBADENGINE") && line.includes("package:"));

let dir: string;
let tarball: string;

beforeAll(() => {
  dir = tempDir("berth-pack-", "file");
  // dist/ is fresh (globalSetup): no prepack rebuild.
  const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], process.cwd());
  expect(packed.status, explain(packed)).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(dir, info?.filename ?? "?");
  writeFileSync(path.join(dir, "files.json"), JSON.stringify(info?.files.map((f) => f.path) ?? []));
}, 120_000);

describe("the npm package", () => {
  it("holds what runs berth (bin, dist/, schemas/) and neither sources, tests nor source maps", () => {
    expect(PKG.files).toContain("dist");
    const files = JSON.parse(readFileSync(path.join(dir, "files.json"), "utf8")) as string[];
    expect(files).toContain("package.json");
    for (const file of Object.values(BINS)) expect(files).toContain(path.normalize(file));
    expect(files).toContain("schemas/container.schema.json");
    expect(files.some((f) => f.startsWith("dist/") && f.endsWith(".js"))).toBe(true);
    expect(files.filter((f) => /^(src|test|bench|scripts|node_modules)\//.test(f) || f.endsWith(".map"))).toEqual([]);
  });

  it("installs with npm install -g into a prefix: berth --version, validate on the bundled specs, schema", () => {
    const prefix = path.join(dir, "prefix");
    const installed = run("npm", ["install", "-g", "--prefix", prefix, ...INSTALL_FLAGS, tarball], dir);
    expect(installed.status, explain(installed)).toBe(0);
    // Every installed dependency accepts this Node (engines), as package.json's own engines say.
    expect(badEngines(installed), installed.stderr).toEqual([]);

    for (const name of Object.keys(BINS)) expect(existsSync(path.join(prefix, "bin", name)), name).toBe(true);
    const env = cleanEnv({ PATH: `${path.join(prefix, "bin")}${path.delimiter}${process.env.PATH ?? ""}` });
    const work = path.join(dir, "global");
    cpSync("specs", path.join(work, "specs"), { recursive: true });

    const version = run("berth", ["--version"], work, env);
    expect([version.status, version.stdout, version.stderr]).toEqual([0, `${PKG.version}\n`, ""]);

    const valid = run("berth", ["validate", "specs"], work, env);
    expect([valid.status, valid.stderr], explain(valid)).toEqual([0, ""]);
    expect(valid.stdout).toMatch(VALID);

    writeFileSync(path.join(work, "specs", "broken.yaml"), "apiVersion: berth/v1\nkind: Container\n");
    const broken = run("berth", ["validate", "specs"], work, env);
    expect(broken.status, explain(broken)).toBe(1);
    expect(broken.stdout).toContain("specs/broken.yaml:");

    // schemas/ is shipped and read at run time.
    const schema = run("berth", ["schema"], work, env);
    expect(schema.status, explain(schema)).toBe(0);
    const shipped = JSON.parse(
      readFileSync(path.join(prefix, "lib", "node_modules", PKG.name, "schemas", "container.schema.json"), "utf8"),
    ) as { $id: string };
    expect((JSON.parse(schema.stdout) as { $id: string }).$id).toBe(shipped.$id);
  }, 240_000);

  it("is a GitOps repository's devDependency: npx berth validate in a Git pre-commit hook", () => {
    const repo = path.join(dir, "gitops");
    mkdirSync(repo);
    writeFileSync(path.join(repo, "package.json"), JSON.stringify({ name: "gitops", private: true }, null, 2));
    const installed = run("npm", ["install", "--save-dev", ...INSTALL_FLAGS, tarball], repo);
    expect(installed.status, explain(installed)).toBe(0);
    expect(badEngines(installed), installed.stderr).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as {
      devDependencies?: Record<string, string>;
    };
    expect(Object.keys(manifest.devDependencies ?? {})).toEqual([PKG.name]);

    // The hook docs/cli.md shows, in a fresh repository.
    const git = (...args: string[]): SpawnSyncReturns<string> =>
      run("git", ["-c", "user.name=berth test", "-c", "user.email=test@berth.invalid", ...args], repo);
    expect(git("init", "-q").status).toBe(0);
    writeFileSync(path.join(repo, ".gitignore"), "node_modules/\n");
    const hook = path.join(repo, ".git", "hooks", "pre-commit");
    writeFileSync(hook, "#!/bin/sh\nexec npx --no-install berth validate specs/\n");
    chmodSync(hook, 0o755);

    mkdirSync(path.join(repo, "specs"));
    writeFileSync(path.join(repo, "specs", "web.yaml"), "apiVersion: berth/v1\nkind: Container\n");
    git("add", ".");
    const refused = git("commit", "-q", "-m", "broken spec");
    expect(refused.status, explain(refused)).not.toBe(0);
    // Git shows a hook's output on its stderr.
    expect(refused.stderr).toContain("specs/web.yaml:");

    cpSync("specs", path.join(repo, "specs"), { recursive: true, force: true });
    writeFileSync(path.join(repo, "specs", "web.yaml"), readFileSync("specs/web.yaml"));
    git("add", ".");
    const committed = git("commit", "-q", "-m", "the bundled specs");
    expect(committed.status, explain(committed)).toBe(0);
    expect(committed.stderr).toMatch(VALID);
  }, 240_000);
});
