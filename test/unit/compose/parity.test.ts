/**
 * Compose parity found by running berth import compose on real-world Compose files: each case
 * is the smallest file that showed the difference.
 */
import { describe, expect, it } from "vitest";
import { type ComposeInput, type Conversion, convertCompose } from "../../../src/compose/convert.js";
import { readDotenv } from "../../../src/compose/dotenv.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { stringify } from "yaml";

/** A Compose file given as text, in /srv/p, with files readable from `files`. */
function convert(text: string, more: Partial<ComposeInput> = {}, files: Record<string, string> = {}): Conversion {
  return convertCompose({
    text,
    dir: "/srv/p",
    env: {},
    dotenv: files["/srv/p/.env"] ?? null,
    projectName: "p",
    prefixNames: false,
    readFile: (p) => files[p] ?? null,
    ...more,
  });
}

const lines = (findings: Conversion["warnings"]): string[] =>
  findings.map((f) => `${f.file ?? ""}:${f.line}:${f.column} ${f.path}: ${f.message}`);

describe(".env and env_file: quoting as Compose reads it, and unset variables reported at their line", () => {
  const DOTENV = "PW='pa$word'\nK='k$y$sec'\nLIT='x$$y'\nDQ=\"d$word\\n\"\nUQ=plain$word # note\nexport EXP=${PW}\n";

  it("single-quoted values are literal; double-quoted and unquoted ones are interpolated", () => {
    const r = readDotenv(DOTENV, "/srv/p/.env", {});
    expect(r.values).toEqual({ PW: "pa$word", K: "k$y$sec", LIT: "x$$y", DQ: "d\n", UQ: "plain", EXP: "pa$word" });
    expect(r.unset.map((u) => `${u.line} ${u.name}`)).toEqual(["4 word", "5 word"]);
  });

  it("through environment and env_file, with one finding per unset variable at the env file's line", () => {
    const c = convert(
      "services:\n  a:\n    image: busybox\n    environment: {PW: '${PW}', KEY: '${K}'}\n    env_file: [.env, app.env]\n",
      {},
      { "/srv/p/.env": DOTENV, "/srv/p/app.env": "A='$x'\nB=$nope\n" },
    );
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.env).toMatchObject({ PW: "pa$word", KEY: "k$y$sec", LIT: "x$$y", A: "$x", B: "" });
    expect(lines(c.warnings).filter((w) => w.includes("is not set"))).toEqual([
      "/srv/p/.env:4:1 : variable word is not set: it is replaced by an empty string (as Compose does)",
      "/srv/p/.env:5:1 : variable word is not set: it is replaced by an empty string (as Compose does)",
      "/srv/p/app.env:2:1 services.a.env_file[1]: variable nope is not set: it is replaced by an empty string (as Compose does)",
    ]);
  });

  it("an unset variable in the Compose file is reported at its line", () => {
    const c = convert("services:\n  a:\n    image: busybox:${TAG}\n");
    expect(lines(c.warnings)).toEqual([
      ":3:12 services.a.image: variable TAG is not set: it is replaced by an empty string (as Compose does)",
    ]);
  });
});

describe("volumes: driver local without options is a plain named volume", () => {
  it.each([
    ["driver: local", "    driver: local\n"],
    ["empty driver_opts", "    driver: local\n    driver_opts: {}\n"],
    ["no config", "    {}\n"],
  ])("%s: no Volume document, so the volume Compose made is used as it is", (_name, config) => {
    const c = convert(`services:\n  a:\n    image: busybox\n    volumes: [data:/data]\nvolumes:\n  data:\n${config}`);
    expect(c.errors).toEqual([]);
    expect(c.warnings).toEqual([]);
    expect(c.objects.map((o) => o.document.kind)).toEqual(["Network"]);
    expect(c.specs[0]?.document.spec.mounts).toEqual([{ type: "volume", source: "p_data", target: "/data" }]);
  });

  it("with driver_opts: a Volume document, and a finding that an existing volume is not adopted and what to do", () => {
    const c = convert(
      "services:\n  a:\n    image: busybox\n    volumes: [data:/data]\nvolumes:\n  data:\n    driver: local\n    driver_opts: {type: none, o: bind, device: /srv/data}\n",
    );
    expect(c.objects.map((o) => o.document.kind)).toEqual(["Network", "Volume"]);
    expect(lines(c.warnings)).toEqual([
      ":6:3 volumes.data: berth creates volume p_data from a kind: Volume document and does not adopt one of that name that Compose made (apply says it exists and berth does not own it): on a host moving from Compose, leave p_data.volume.yaml out to keep the existing volume as it is, or copy its data out and remove it for berth to create it",
    ]);
  });
});

describe("a renamed service or container_name: where other services still use the old name", () => {
  const TEXT = `services:
  plausible_db:
    image: postgres:16
  events:
    image: clickhouse
    container_name: Events_DB
  plausible:
    image: plausible
    command: sh -c "sleep 10 && /entrypoint.sh db migrate --host plausible_db"
    environment:
      DATABASE_URL: postgres://postgres@plausible_db:5432/plausible
      CLICKHOUSE_URL: http://events_db:8123/events
      OTHER: plausible_dbx
`;

  it("the finding says the old name no longer resolves and lists the file:line of each use", () => {
    const c = convert(TEXT, { file: "/srv/p/compose.yaml", displayPath: (p) => p.replace("/srv/p/", "") });
    expect(c.errors).toEqual([]);
    expect(c.specs.map((s) => s.document.metadata.name)).toEqual(["plausible-db", "events", "plausible"]);
    expect(lines(c.warnings)).toEqual([
      ":2:3 services.plausible_db: the service name is not a DNS label: the spec is named plausible-db; plausible_db no longer resolves on the network (Compose answers to service and container names, berth to the spec's name): other services name it at compose.yaml:9, compose.yaml:11; use plausible-db there",
      ":6:5 services.events.container_name: \"Events_DB\" is not a DNS label (berth's names are): the spec is named events; Events_DB no longer resolves on the network (Compose answers to service and container names, berth to the spec's name): other services name it at compose.yaml:12; use events there",
    ]);
    // Named nowhere in the file, it may still be named elsewhere.
    expect(lines(convert("services:\n  my_db:\n    image: postgres\n").warnings)).toEqual([
      ":2:3 services.my_db: the service name is not a DNS label: the spec is named my-db; my_db no longer resolves on the network (Compose answers to service and container names, berth to the spec's name): use my-db wherever it is named (in env files, or in an image's defaults)",
    ]);
  });
});

describe("a port without a host port is published on hostPort: auto", () => {
  it("keeping its host address; the finding names berth's range", () => {
    const c = convert(`services:\n  a:\n    image: busybox\n    ports: ["3000", "127.0.0.1::80", "9000-9001/udp"]\n`);
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.ports).toEqual([
      { containerPort: 3000, hostPort: "auto", hostIP: "0.0.0.0" },
      { containerPort: 80, hostPort: "auto", hostIP: "127.0.0.1" },
      { containerPort: 9000, protocol: "udp", hostPort: "auto", hostIP: "0.0.0.0" },
      { containerPort: 9001, protocol: "udp", hostPort: "auto", hostIP: "0.0.0.0" },
    ]);
    expect(lines(c.warnings)[1]).toBe(
      ":4:21 services.a.ports[1]: Compose publishes 80 on an ephemeral host port of the engine's range; berth writes hostPort: auto, the lowest free port of --host-port-range (default 10000-20000, docs/ports.md)",
    );
    // berth's parser takes it: only publishing on every interface needs a flag.
    const issues = parseSpecText(stringify(c.specs[0]?.document), "a.yaml", DEFAULT_PARSE_OPTIONS).issues;
    expect(issues.map((i) => i.path)).toEqual(["spec.ports[0].hostIP", "spec.ports[2].hostIP", "spec.ports[3].hostIP"]);
  });
});

describe("extends within the file, with Compose's merge rules", () => {
  const TEXT = `services:
  base:
    image: app:1
    command: [serve]
    environment: {A: "1", B: "1"}
    labels: [team=core]
    ports: ["8080:80"]
    volumes: [data:/data, ./conf:/conf]
    cap_add: [NET_ADMIN]
    depends_on: [db]
    healthcheck: {test: [CMD, a], interval: 5s}
  web:
    extends: base
    command: [run]
    environment: [B=2, C=3]
    ports: ["8080:80", "9090:90"]
    volumes: [other:/data]
    cap_add: [NET_ADMIN, SYS_TIME]
    healthcheck: {test: [CMD, b]}
  worker:
    extends: {service: web}
    environment: {D: "4"}
  db:
    image: postgres
volumes: {data: {}, other: {}}
`;

  it("mappings merged by key, lists appended and unique by target, command and healthcheck.test replaced, depends_on not inherited", () => {
    const c = convert(TEXT);
    expect(c.errors).toEqual([]);
    const web = c.specs[1]?.document;
    expect(web?.metadata.labels).toEqual({ team: "core" });
    expect(web?.spec).toMatchObject({
      image: "app:1",
      command: ["run"],
      env: { A: "1", B: "2", C: "3" },
      ports: [
        { containerPort: 80, hostPort: 8080, hostIP: "0.0.0.0" },
        { containerPort: 90, hostPort: 9090, hostIP: "0.0.0.0" },
      ],
      mounts: [
        { type: "volume", source: "p_other", target: "/data" },
        { type: "bind", source: "/srv/p/conf", target: "/conf" },
      ],
      securityContext: { capAdd: ["NET_ADMIN", "SYS_TIME"] },
      healthcheck: { command: ["b"], interval: "5s" },
    });
    expect(web?.spec.dependsOn).toBeUndefined();
    expect(c.specs[0]?.document.spec.dependsOn).toEqual([{ name: "db", condition: "Started" }]);
    // A chain: worker extends web extends base.
    expect(c.specs[2]?.document.spec).toMatchObject({ image: "app:1", env: { A: "1", B: "2", C: "3", D: "4" } });
  });

  it("what the base gives is reported at the extending service's extends:, naming the line it is written on", () => {
    const c = convert("services:\n  base:\n    image: a\n    gpus: all\n  web:\n    extends: base\n");
    expect(lines(c.warnings).filter((w) => w.includes("gpus"))).toEqual([
      ":4:5 services.base.gpus: not supported: berth's spec has no GPU requests",
      ":6:5 services.web.gpus: not supported: berth's spec has no GPU requests (merged from line 4)",
    ]);
  });

  it("a cycle is an error at the extends that closes it; an unknown base is an error; another file's stays a finding", () => {
    const errors = (text: string): string[] =>
      convert(text).errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
    expect(errors("services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n")).toEqual([
      "7:5 services.b.extends: a cycle of extends: a → b → a",
    ]);
    expect(errors("services:\n  a:\n    image: x\n    extends: nope\n")).toEqual([
      "4:5 services.a.extends: no service named nope to extend",
    ]);
    const other = convert("services:\n  a:\n    image: x\n    extends: {file: other.yaml, service: b}\n");
    expect(lines(other.warnings)).toEqual([
      ":4:5 services.a.extends: not supported: berth reads extends within the same file only, not other Compose files: inline the extended service",
    ]);
  });
});

describe("profiles: a service with profiles is converted only when one of them is active", () => {
  const TEXT =
    "services:\n  web:\n    image: web\n  debug:\n    image: busybox\n    profiles: [debug]\n  tools:\n    image: busybox\n    profiles: [tools, debug]\n";

  it.each([
    [[], undefined, ["web"]],
    [["tools"], undefined, ["web", "tools"]],
    [[], "debug", ["web", "debug", "tools"]],
    [["*"], undefined, ["web", "debug", "tools"]],
  ])("--profile %j, COMPOSE_PROFILES %s: %j", (profiles, env, converted) => {
    const c = convert(TEXT, { profiles, env: env === undefined ? {} : { COMPOSE_PROFILES: env } });
    expect(c.specs.map((s) => s.service)).toEqual(converted);
    // The skipped services are one finding, not one each.
    expect(c.warnings.length).toBe(converted.length === 3 ? 0 : 1);
  });

  it("COMPOSE_PROFILES from .env; a dependency on a skipped service says why it has no spec", () => {
    const c = convert(`${TEXT}    depends_on: [debug]\n`, {}, { "/srv/p/.env": "COMPOSE_PROFILES=tools\n" });
    expect(lines(c.errors)).toEqual([
      ":10:18 services.tools.depends_on[0]: service debug is not converted: none of its profiles (debug) is active (--profile NAME or COMPOSE_PROFILES)",
    ]);
    expect(lines(c.warnings)).toEqual([
      ":1:1 services: not converted, as Compose does not start them, since none of their profiles is active (--profile NAME or COMPOSE_PROFILES): debug (debug)",
    ]);
  });
});

describe("network_mode: host", () => {
  it("expose and ports are left out with a finding, not an error", () => {
    const c = convert(
      "services:\n  a:\n    image: busybox\n    network_mode: host\n    expose: ['8080']\n    ports: ['9090:90']\n",
    );
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.ports).toBeUndefined();
    expect(lines(c.warnings)).toEqual([
      ":5:5 services.a.expose: with network_mode: host the container listens on the host's ports: expose is informational, left out",
      ":6:5 services.a.ports: with network_mode: host the container listens on the host's ports: Docker discards published ports, left out",
    ]);
    const issues = parseSpecText(stringify(c.specs[0]?.document), "a.yaml", DEFAULT_PARSE_OPTIONS).issues;
    expect(issues.filter((i) => i.code !== "BERTH_POLICY")).toEqual([]);
  });
});

describe("deploy.restart_policy", () => {
  const deploy = (policy: string, extra = ""): Conversion =>
    convert(`services:\n  a:\n    image: busybox\n${extra}    deploy:\n      restart_policy:\n${policy}`);

  it("condition on-failure with max_attempts N is backoffLimit N, as restart: on-failure:N", () => {
    const c = deploy("        condition: on-failure\n        max_attempts: 5\n        delay: 5s\n");
    expect(c.specs[0]?.document.spec).toMatchObject({ restartPolicy: "OnFailure", backoffLimit: 5 });
    expect(lines(c.warnings)).toEqual([
      ":8:9 services.a.deploy.restart_policy.delay: berth restarts with its own backoff: ignored",
    ]);
  });

  it("max_attempts under another condition, or beside restart, is a finding that says why", () => {
    expect(lines(deploy("        condition: any\n        max_attempts: 5\n").warnings)).toEqual([
      ":7:9 services.a.deploy.restart_policy.max_attempts: berth limits restarts (backoffLimit) under condition on-failure only: ignored",
    ]);
    const c = deploy("        condition: on-failure\n        max_attempts: 5\n", "    restart: always\n");
    expect(c.specs[0]?.document.spec.restartPolicy).toBe("Always");
    expect(c.specs[0]?.document.spec.backoffLimit).toBeUndefined();
    expect(lines(c.warnings)).toEqual([
      ":8:9 services.a.deploy.restart_policy.max_attempts: restart is set, and wins over deploy.restart_policy (as in Compose): ignored",
    ]);
  });
});

describe("findings: at the right line, once, and no second error after a real one", () => {
  it("healthcheck disable: true is one finding; disable: false without timings none", () => {
    const hc = (body: string): string[] =>
      lines(convert(`services:\n  a:\n    image: busybox\n    healthcheck:\n${body}`).warnings);
    expect(hc("      disable: true\n")).toEqual([
      ":5:7 services.a.healthcheck.disable: berth cannot turn off an image's healthcheck: the image's is kept",
    ]);
    expect(hc("      disable: true\n      interval: 5s\n")).toHaveLength(1);
    expect(hc("      disable: false\n")).toEqual([]);
    expect(hc("      interval: 5s\n")).toEqual([
      ":4:5 services.a.healthcheck: berth's healthcheck needs test: the image's healthcheck is kept and these timings are dropped",
    ]);
  });

  it("a key merged from an anchor, nested in a list, is reported at each service's <<: with the line it is written on", () => {
    const c = convert(`x-defaults: &defaults
  image: busybox
  environment:
    - SECRET_KEY
services:
  a:
    <<: *defaults
  b:
    <<: *defaults
`);
    expect(lines(c.warnings)).toEqual([
      ":7:5 services.a.environment.SECRET_KEY: SECRET_KEY takes its value from the environment, where it is not set: left out (as Compose does) (merged from line 4)",
      ":9:5 services.b.environment.SECRET_KEY: SECRET_KEY takes its value from the environment, where it is not set: left out (as Compose does) (merged from line 4)",
    ]);
  });
});

describe("Compose's own refusals, and secrets from env files", () => {
  it.each([
    [
      { projectName: "My.Proj" },
      "",
      "1:1 name: the project name \"My.Proj\" (-p) is not valid, as Compose refuses it: use lowercase letters, digits, '-' and '_', starting with a letter or digit (e.g. myproj)",
    ],
    [
      { projectName: null, env: { COMPOSE_PROJECT_NAME: "Shop" } },
      "",
      "1:1 name: the project name \"Shop\" (COMPOSE_PROJECT_NAME) is not valid, as Compose refuses it: use lowercase letters, digits, '-' and '_', starting with a letter or digit (e.g. shop)",
    ],
    [
      { projectName: null },
      "name: _shop\n",
      "1:1 name: the project name \"_shop\" (name:) is not valid, as Compose refuses it: use lowercase letters, digits, '-' and '_', starting with a letter or digit (e.g. shop)",
    ],
  ])("an explicit project name Compose refuses is an error: %j", (more, top, expected) => {
    const c = convert(`${top}services:\n  a:\n    image: busybox\n`, more);
    expect(c.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual([expected]);
  });

  it("a folder's name is made valid, as Compose does", () => {
    expect(convert("services:\n  a:\n    image: busybox\n", { projectName: null, dir: "/srv/My.App" }).errors).toEqual(
      [],
    );
  });

  it("scale and deploy.replicas that differ are an error; equal ones are not", () => {
    const c = (scale: number): Conversion =>
      convert(`services:\n  a:\n    image: busybox\n    scale: ${scale}\n    deploy:\n      replicas: 2\n`);
    expect(lines(c(3).errors)).toEqual([
      ":4:5 services.a.scale: scale (3) and deploy.replicas (2) differ, which Compose refuses: give one",
    ]);
    expect(c(2).errors).toEqual([]);
    expect(c(2).specs[0]?.document.spec.replicas).toBe(2);
  });

  it("secret-looking variables from env_file or .env: one finding naming secretEnv, the output unchanged", () => {
    const c = convert(
      "services:\n  a:\n    image: busybox\n    env_file: app.env\n    environment:\n      DB_PASSWORD: ${PG_PW}\n      LOG_LEVEL: ${LEVEL}\n      API_TOKEN: literal\n  b:\n    image: busybox\n    environment: [SECRET_KEY_BASE]\n",
      {},
      {
        "/srv/p/.env": "PG_PW=hunter2\nLEVEL=info\nSECRET_KEY_BASE=abc\n",
        "/srv/p/app.env": "JWT_SECRET=s\nMONKEY=1\n",
      },
    );
    expect(c.specs[0]?.document.spec.env).toEqual({
      JWT_SECRET: "s",
      MONKEY: "1",
      DB_PASSWORD: "hunter2",
      LOG_LEVEL: "info",
      API_TOKEN: "literal",
    });
    expect(c.specs[1]?.document.spec.env).toEqual({ SECRET_KEY_BASE: "abc" });
    expect(lines(c.warnings)).toEqual([
      ":4:5 services.a.environment.JWT_SECRET: 3 variables whose names look like secrets (JWT_SECRET, DB_PASSWORD, SECRET_KEY_BASE) take their values from an env_file or .env, and berth writes them into the specs: to keep them out of files you commit, give them as secretEnv (fromFile or fromHostEnv, docs/spec.md) instead of env",
    ]);
  });
});

describe("override files merge onto the Compose file with Compose's rules", () => {
  const MAIN = `services:
  web:
    image: web:1
    build: ./app
    environment: [A=1, B=1]
    volumes: [data:/data, ./conf:/conf]
    logging: {driver: json-file, options: {max-size: 5m}}
    depends_on: [db]
  db:
    image: postgres
volumes: {data: {}, other: {}}
`;
  const OVERRIDE = `services:
  web:
    build: {target: dev}
    environment: {B: "2", C: "3"}
    volumes: [other:/data]
    logging: {driver: local}
    depends_on: {db: {condition: service_healthy}}
  cache:
    image: redis
`;

  it("by key, by target, by driver and by name; a new service is added; findings name the override file", () => {
    const c = convert(MAIN, { overrides: [{ file: "/srv/p/compose.override.yaml", text: OVERRIDE }] });
    expect(c.errors).toEqual([]);
    expect(c.specs.map((s) => s.service)).toEqual(["web", "db", "cache"]);
    expect(c.specs[0]?.document.spec).toMatchObject({
      build: { context: "./app", target: "dev" },
      env: { A: "1", B: "2", C: "3" },
      mounts: [
        { type: "volume", source: "p_other", target: "/data" },
        { type: "bind", source: "/srv/p/conf", target: "/conf" },
      ],
      // Another driver: the first one's options do not carry over.
      logging: { driver: "local" },
      dependsOn: [{ name: "db", condition: "Healthy" }],
    });
    const withGpus = convert(MAIN, {
      overrides: [{ file: "/srv/p/gpu.yaml", text: "services:\n  web:\n    gpus: all\n" }],
    });
    expect(lines(withGpus.warnings)).toContain(
      "/srv/p/gpu.yaml:3:5 services.web.gpus: not supported: berth's spec has no GPU requests",
    );
  });
});
