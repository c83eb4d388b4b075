/** `berth import compose` as a user runs it: stdout, --out-dir, warnings and exit codes. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCli } from "../../support/cli.js";
import { tempDir } from "../../support/tmp.js";

const FIXTURE = path.resolve("test/fixtures/compose/web-db-cache/compose.yaml");

describe("berth import compose", () => {
  it("prints the project's network and one document per service on stdout, the unsupported keys with their lines on stderr, and exits 0", async () => {
    const r = await runCli(["import", "compose", FIXTURE]);
    expect(r.code, r.stderr).toBe(0);
    const names = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name);
    expect(names).toEqual(["web-db-cache_default", "web", "db", "cache"]);
    expect(r.stderr).toContain(
      "compose.yaml:5:5: services.web.image: warning: with build, berth tags the image berth.local/<spec>:<context hash>",
    );
    expect(r.stderr).not.toContain("services.web.depends_on");
    expect(r.stderr).not.toContain("services.cache.ulimits");
    // The bind mount needs a policy flag, and the message says which, at the volume's own line.
    expect(r.stderr).toMatch(
      /compose\.yaml:15:9: services\.web: spec\.mounts\[0\]\.source: policy: .*--allow-bind PREFIX/,
    );
    expect(r.stderr).toMatch(/compose\.yaml:57:5: services\.cache: spec\.sysctls\["net\.core\.somaxconn"\]: policy: /);
    // On stdout, a build context stays relative to the Compose file's folder: the specs belong there.
    expect(r.stderr).toContain(
      "compose.yaml:4:5: services.web.build: warning: the build context . is relative to the Compose file's folder (test/fixtures/compose/web-db-cache): save these specs there, or give --out-dir DIR, which rebases it onto DIR",
    );
    expect(r.stderr).toMatch(
      /converted 3 services and 1 network of project web-db-cache: 2 warnings, 2 policy refusals/,
    );
  });

  it("a file that cannot be converted: its errors with their lines, the count, nothing written, exit 1", async () => {
    const compose = path.join(tempDir(), "compose.yaml");
    writeFileSync(compose, 'services:\n  web:\n    image: busybox\n    volumes: ["data:/d"]\n');
    const r = await runCli(["import", "compose", compose]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `${compose}:4:15: services.web.volumes[0]: error: volume "data" is not declared under the top-level volumes (Compose refuses it too)\n` +
        "failed: 1 error; nothing written\n",
    );
  });

  it("the policy flags berth validate takes admit what they allow", async () => {
    const dir = path.dirname(FIXTURE);
    const r = await runCli(["import", "compose", FIXTURE, "--allow-bind", dir, "--policy", "privileged"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("policy:");
  });

  it("--out-dir writes NAME.yaml per service that berth validate accepts, and refuses to overwrite without --force", async () => {
    const out = tempDir();
    // Without its build: a context beside the Compose file is outside this --out-dir (tested below).
    const project = tempDir();
    const compose = path.join(project, "compose.yaml");
    writeFileSync(compose, readFileSync(FIXTURE, "utf8").replace("    build: .\n", ""));
    const first = await runCli(["import", "compose", compose, "-p", "shop", "--prefix-names", "--out-dir", out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("");
    for (const name of ["shop-web", "shop-db", "shop-cache", "shop_default.network"])
      expect(existsSync(path.join(out, `${name}.yaml`))).toBe(true);
    const validated = await runCli(["validate", out, "--allow-bind", project, "--policy", "privileged"]);
    expect(validated.code, validated.stdout).toBe(0);

    writeFileSync(path.join(out, "shop-db.yaml"), "# mine\n");
    const again = await runCli(["import", "compose", compose, "-p", "shop", "--prefix-names", "--out-dir", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exist: give --force to overwrite; nothing written");
    expect(readFileSync(path.join(out, "shop-db.yaml"), "utf8")).toBe("# mine\n");
    const forced = await runCli([
      "import",
      "compose",
      compose,
      "-p",
      "shop",
      "--prefix-names",
      "--out-dir",
      out,
      "--force",
    ]);
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(out, "shop-db.yaml"), "utf8")).toContain("image: postgres:16-alpine");
  });

  it("--out-dir rebases a build context onto the spec files' folder; one outside it is refused, nothing written", async () => {
    const project = tempDir();
    const compose = path.join(project, "compose.yaml");
    writeFileSync(compose, "services:\n  web:\n    build:\n      context: ./app\n      target: runtime\n");
    const beside = await runCli(["import", "compose", compose, "--out-dir", project]);
    expect(beside.code, beside.stderr).toBe(0);
    const spec = parseAllDocuments(readFileSync(path.join(project, "web.yaml"), "utf8"))[0]?.toJS() as {
      spec: { build: object; image?: string };
    };
    expect(spec.spec).toMatchObject({ build: { context: "./app", target: "runtime" } });
    expect(spec.spec.image).toBeUndefined();
    const below = await runCli(["import", "compose", compose, "--out-dir", path.join(project, "app", "specs")]);
    expect(below.code).toBe(1);
    // One error, at the build's line, saying what to do; not berth's parser's second one.
    expect(below.stderr).toBe(
      `${compose}:3:5: services.web.build: error: the build context ./app is outside --out-dir ${path.join(project, "app", "specs")}, and a spec's build context must lie inside the spec's folder: write the specs into a folder that contains it, such as the Compose file's own (--out-dir ${project}), or move the context under ${path.join(project, "app", "specs")}\n` +
        "failed: 1 error; nothing written\n",
    );
    expect(existsSync(path.join(project, "app", "specs"))).toBe(false);
  });

  it("merges the standard override file beside a single Compose file, as docker compose does; --no-override does not", async () => {
    const dir = tempDir();
    const compose = path.join(dir, "docker-compose.yml");
    writeFileSync(compose, "services:\n  web:\n    image: web:1\n    environment: {A: '1', B: '1'}\n");
    writeFileSync(path.join(dir, "docker-compose.override.yml"), "services:\n  web:\n    environment: {B: '2'}\n");
    const merged = await runCli(["import", "compose", compose]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('env:\n    A: "1"\n    B: "2"\n');
    expect(merged.stderr).toContain(
      "docker-compose.override.yml:1:1: warning: merged onto docker-compose.yml, as docker compose merges the override file beside it; give --no-override to leave it out",
    );
    const alone = await runCli(["import", "compose", compose, "--no-override"]);
    expect(alone.stdout).toContain('B: "1"');
    expect(alone.stderr).not.toContain("override");
  });

  it("merges several files in order, later ones winning; an override file alone says to give the main file first", async () => {
    const dir = tempDir();
    const a = path.join(dir, "a.yaml");
    const b = path.join(dir, "b.yaml");
    writeFileSync(a, "services:\n  web:\n    image: web:1\n    ports: ['8080:80']\n");
    writeFileSync(b, "services:\n  web:\n    image: web:2\n    ports: ['9090:90']\n    gpus: all\n");
    const r = await runCli(["import", "compose", a, b]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("image: web:2");
    expect(r.stdout).toContain("hostPort: 8080");
    expect(r.stdout).toContain("hostPort: 9090");
    // A finding about a key of the second file names that file.
    expect(r.stderr).toContain(`${b}:5:5: services.web.gpus: warning: not supported`);
    writeFileSync(b, "services:\n  web:\n    ports: ['9090:90']\n");
    const alone = await runCli(["import", "compose", b]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain(
      "services: error: no service has image or build: this looks like an override file; give the main Compose file first, then this one",
    );
  });

  it("after a real error, berth's parser does not report the same spec again", async () => {
    const dir = tempDir();
    const file = path.join(dir, "compose.yaml");
    writeFileSync(
      file,
      "services:\n  app:\n    image: busybox:${TAG:?set TAG}\n  worker:\n    command: [x]\n  db:\n    image: postgres:16\n",
    );
    const r = await runCli(["import", "compose", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${file}:3:12: services.app.image: error: required variable TAG is not set: set TAG\n` +
        `${file}:4:3: services.worker: error: the service has no image or build\n` +
        "failed: 2 errors; nothing written\n",
    );
  });

  it("writes a tmpfs mode in octal, which berth reads back as the same number", async () => {
    const r = await runCli(["import", "compose", path.resolve("test/fixtures/compose/worker-replicas/compose.yaml")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("mode: 0o1777");
    const worker = parseAllDocuments(r.stdout)[0]?.toJS() as { spec: { mounts: { mode?: number }[] } };
    expect(worker.spec.mounts[0]?.mode).toBe(0o1777);
  });

  it("reads .env beside the Compose file, or the --env-file given; a required variable left unset is an error", async () => {
    const fixture = path.resolve("test/fixtures/compose/interpolation/compose.yaml");
    const beside = await runCli(["import", "compose", fixture]);
    expect(beside.code, beside.stderr).toBe(0);
    expect(beside.stdout).toContain("image: registry.example.com:5000/example/app:1.2.3");
    const dir = tempDir();
    writeFileSync(path.join(dir, "other.env"), "TAG=7.0\nAPP_UID=1\nAPP_GID=2\n");
    const other = await runCli(["import", "compose", fixture, "--env-file", path.join(dir, "other.env")]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toContain("image: docker.io/example/app:7.0");
    writeFileSync(path.join(dir, "empty.env"), "");
    const unset = await runCli(["import", "compose", fixture, "--env-file", path.join(dir, "empty.env")]);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain(
      "compose.yaml:4:12: services.app.image: error: required variable TAG is not set: set TAG in .env",
    );
  });

  it("exits 1 and writes nothing when a service cannot be converted", async () => {
    const dir = tempDir();
    const file = path.join(dir, "compose.yaml");
    writeFileSync(file, "services:\n  app:\n    command: [sleep, '1']\n  db:\n    image: postgres:16\n");
    const out = path.join(dir, "out");
    const r = await runCli(["import", "compose", file, "--out-dir", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("compose.yaml:2:3: services.app: error: the service has no image or build");
    expect(r.stderr).toContain("nothing written");
    expect(existsSync(out)).toBe(false);
  });

  it("-o json: the specs and every finding with its code, severity and position on stdout, nothing on stderr", async () => {
    const r = await runCli(["import", "compose", FIXTURE, "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as {
      converted: boolean;
      project: string;
      specs: { name: string; from: string; document: { kind: string; metadata: { name: string } } }[];
      findings: { code: string; severity: string; line: number; column: number; path: string; text: string }[];
    };
    expect(report.converted).toBe(true);
    expect(report.project).toBe("web-db-cache");
    expect(report.specs.map((s) => [s.name, s.from, s.document.kind, s.document.metadata.name])).toEqual([
      ["web-db-cache_default", "networks.default", "Network", "web-db-cache_default"],
      ["web", "services.web", "Container", "web"],
      ["db", "services.db", "Container", "db"],
      ["cache", "services.cache", "Container", "cache"],
    ]);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        code: "BERTH_COMPOSE_LOSSY",
        severity: "warning",
        line: 5,
        column: 5,
        path: "services.web.image",
      }),
    );
    const policy = report.findings.filter((f) => f.severity === "policy");
    expect(policy.map((f) => f.code)).toEqual(["BERTH_POLICY", "BERTH_POLICY"]);
    expect(policy[0]?.text).toMatch(/services\.web: spec\.mounts\[0\]\.source: policy: .*--allow-bind PREFIX/);
    // The text form prints the same lines.
    const text = await runCli(["import", "compose", FIXTURE]);
    for (const f of report.findings) expect(text.stderr).toContain(f.text);
  });

  it("-o json of a file that cannot be converted: converted false, the error with BERTH_COMPOSE, exit 1", async () => {
    const dir = tempDir();
    const file = path.join(dir, "compose.yaml");
    writeFileSync(file, "services:\n  app:\n    command: [sleep, '1']\n  db:\n    image: postgres:16\n");
    const out = path.join(dir, "out");
    const r = await runCli(["import", "compose", file, "--out-dir", out, "-o", "json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { converted: boolean; written: string[]; findings: object[] };
    expect(report.converted).toBe(false);
    expect(report.written).toEqual([]);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ code: "BERTH_COMPOSE", severity: "error", line: 2, column: 3, path: "services.app" }),
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a format it does not know and a file it cannot read", async () => {
    expect((await runCli(["import", "kubernetes", FIXTURE])).code).toBe(1);
    const missing = await runCli(["import", "compose", "/nonexistent/compose.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read /nonexistent/compose.yaml");
  });
});
