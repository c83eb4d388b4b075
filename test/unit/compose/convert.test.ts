/**
 * Golden tests of the Compose converter: real-world Compose files of several shapes
 * (test/fixtures/compose/NAME/compose.yaml) → the berth documents and the list of what was not
 * converted, with lines (test/fixtures/compose/NAME/expected.txt). Every produced document is
 * also read back by berth's own parser: it must pass the schema, and fail the policy only where
 * the test says which flag it needs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { convertCompose, type Conversion, type ComposeInput } from "../../../src/compose/convert.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";

const FIXTURES = path.resolve("test/fixtures/compose");
/** Where the tests pretend the fixtures are, so the golden files hold no machine's paths. */
const ROOT = "/srv/compose";

function readFixture(p: string): string | null {
  try {
    return readFileSync(p.replace(ROOT, FIXTURES), "utf8");
  } catch {
    return null;
  }
}

function convert(name: string, overrides: Partial<ComposeInput> = {}): Conversion {
  const dir = `${ROOT}/${name}`;
  return convertCompose({
    text: readFixture(`${dir}/compose.yaml`) ?? "",
    dir,
    env: { HOME: "/home/op", FROM_SHELL: "from the shell" },
    dotenv: readFixture(`${dir}/.env`),
    projectName: null,
    prefixNames: false,
    readFile: readFixture,
    ...overrides,
  });
}

function render(c: Conversion): string {
  const lines = [
    `project: ${c.project}`,
    ...c.errors.map((f) => `error ${f.line}:${f.column} ${f.path}: ${f.message}`),
    ...c.warnings.map((f) => `warning ${f.line}:${f.column} ${f.path}: ${f.message}`),
  ];
  const objects = c.objects.map((o) => `--- # ${o.document.kind} ${o.key} (line ${o.line})\n${stringify(o.document)}`);
  const specs = c.specs.map((s) => `--- # ${s.service} (line ${s.line})\n${stringify(s.document)}`);
  return `${lines.join("\n")}\n${[...objects, ...specs].join("")}`;
}

/** Every document through berth's parser: the issues, as "name: path: check". */
function admission(c: Conversion): string[] {
  return [...c.objects, ...c.specs].flatMap((s) => {
    const result = parseSpecText(stringify(s.document), `${s.document.metadata.name}.yaml`, DEFAULT_PARSE_OPTIONS);
    return result.issues.map(
      (i) =>
        `${s.document.metadata.name}: ${i.code} ${i.path}: ${/\[policy \w+: ([\w-]+)\]/.exec(i.message)?.[1] ?? i.message}`,
    );
  });
}

/** The unsupported keys as "line path". */
const unsupported = (c: Conversion): string[] =>
  c.warnings.filter((w) => w.message.startsWith("not supported")).map((w) => `${w.line} ${w.path}`);

/** A Compose file given as text, in /srv/p. */
const inline = (text: string, env: Record<string, string> = {}): Conversion =>
  convertCompose({
    text,
    dir: "/srv/p",
    env,
    dotenv: null,
    projectName: "p",
    prefixNames: false,
    readFile: () => null,
  });

describe("Compose files of several shapes convert to valid berth specs", () => {
  it.each(["web-db-cache", "reverse-proxy", "worker-replicas", "anchors", "interpolation"])("%s", async (name) => {
    // worker-replicas' scheduler is in profile cron: converted when the profile is active, as Compose starts it.
    const c = convert(name, { profiles: ["cron"] });
    expect(c.errors).toEqual([]);
    await expect(render(c)).toMatchFileSnapshot(path.join(FIXTURES, name, "expected.txt"));
    // Schema-valid: the only issues berth's parser has are policy refusals.
    expect(admission(c).filter((i) => !i.includes("BERTH_POLICY"))).toEqual([]);
  });

  it("web + database + cache: nothing unsupported; dependencies, build, ulimits and shm_size convert", () => {
    const c = convert("web-db-cache");
    expect(unsupported(c)).toEqual([]);
    expect(c.specs[0]?.document.spec.dependsOn).toEqual([
      { name: "db", condition: "Healthy" },
      { name: "cache", condition: "Started" },
    ]);
    expect(c.specs[1]?.document.spec.shmSize).toBe("256Mi");
    // build: . beside image: the build is kept, Compose's tag for it is not (berth tags its own).
    expect(c.specs[0]?.document.spec.build).toEqual({ context: "." });
    expect(c.specs[0]?.document.spec.image).toBeUndefined();
    expect(c.warnings.map((w) => `${w.line} ${w.path}`)).toContain("5 services.web.image");
    expect(c.specs[2]?.document.spec.ulimits).toEqual({ nofile: { soft: 65536, hard: 65536 }, nproc: 4096 });
    expect(c.specs.map((s) => [s.document.metadata.name, s.document.spec.restartPolicy])).toEqual([
      ["web", "Always"],
      ["db", "Always"],
      ["cache", "OnFailure"],
    ]);
    expect(c.specs[1]?.document.spec.mounts).toEqual([
      { type: "volume", source: "web-db-cache_db-data", target: "/var/lib/postgresql/data" },
    ]);
    expect(c.specs[0]?.document.spec.mounts).toEqual([
      { type: "bind", source: "/srv/compose/web-db-cache/uploads", target: "/app/uploads" },
    ]);
    expect(admission(c)).toEqual([
      "web: BERTH_POLICY spec.mounts[0].source: bind-allowed-prefix",
      'cache: BERTH_POLICY spec.sysctls["net.core.somaxconn"]: safe-sysctls',
    ]);
  });

  it("reverse proxy: publishing on every interface and a low port need the policy's flags", () => {
    const c = convert("reverse-proxy");
    expect(c.project).toBe("edge");
    expect(c.specs.map((s) => s.document.metadata.name)).toEqual(["edge-proxy", "app"]);
    expect(c.specs[0]?.document.spec.ports).toEqual([
      { containerPort: 80, hostPort: 80, hostIP: "0.0.0.0" },
      { containerPort: 443, hostPort: 8443, hostIP: "127.0.0.1" },
    ]);
    expect(admission(c)).toEqual([
      "edge-proxy: BERTH_POLICY spec.mounts[0].source: bind-allowed-prefix",
      "edge-proxy: BERTH_POLICY spec.mounts[1].source: bind-allowed-prefix",
      "edge-proxy: BERTH_POLICY spec.ports[0].hostPort: allowed-host-ports",
      "edge-proxy: BERTH_POLICY spec.ports[0].hostIP: allowed-host-ip",
    ]);
    expect(c.objects.map((o) => [o.key, o.document.kind, o.document.metadata.name])).toEqual([
      ["frontend", "Network", "edge_frontend"],
      ["backend", "Network", "edge_backend"],
    ]);
    expect(c.warnings.map((w) => `${w.line} ${w.path}`)).toContain("46 services.app.networks.backend.aliases");
  });

  it("worker with replicas: deploy maps to replicas, resources, restart and update order", () => {
    const spec = convert("worker-replicas").specs[0]?.document.spec;
    expect(spec).toMatchObject({
      replicas: 3,
      restartPolicy: "OnFailure",
      updateStrategy: "StartFirst",
      resources: { cpus: "1.5", memory: "1Gi", memoryReservation: "512Mi", pids: 256 },
      env: { QUEUE_URL: "amqp://rabbit:5672", LOG_LEVEL: "info", CONCURRENCY: "8" },
      stopTimeout: "2m",
    });
    expect(spec?.mounts?.[0]).toEqual({ type: "tmpfs", target: "/tmp", size: "100Mi", mode: 0o1777 });
    expect(convert("worker-replicas", { profiles: ["cron"] }).specs[1]?.document.spec.network).toBe("container:worker");
    // Without its profile, the scheduler is not converted, as Compose does not start it.
    const without = convert("worker-replicas");
    expect(without.specs.map((s) => s.service)).toEqual(["worker"]);
    expect(without.warnings.filter((w) => w.path === "services").map((w) => `${w.line} ${w.message}`)).toEqual([
      "2 not converted, as Compose does not start them, since none of their profiles is active (--profile NAME or COMPOSE_PROFILES): scheduler (cron)",
    ]);
    expect(convert("worker-replicas", { env: { COMPOSE_PROFILES: "other,cron" } }).specs).toHaveLength(2);
  });

  it("update_config.monitor is stableFor on a service that keeps running; failure_action pause is berth's own", () => {
    const c = inline(
      "services:\n  web:\n    image: web:2\n    restart: always\n    deploy:\n      update_config:\n        monitor: 1m30s\n        failure_action: pause\n        order: stop-first\n",
    );
    expect(c.errors).toEqual([]);
    expect(c.warnings).toEqual([]);
    expect(c.specs[0]?.document.spec).toMatchObject({ stableFor: "1m30s", updateStrategy: "StopFirst" });
  });

  it("anchors, merge keys and x- fields: shared settings reach every service, x- keys are not reported", () => {
    const c = convert("anchors");
    expect(c.specs.map((s) => s.document.spec.env)).toEqual([
      { TZ: "UTC", APP_ENV: "staging" },
      { APP_ENV: "production", BATCH: "500", TZ: "UTC" },
      { TZ: "UTC", APP_ENV: "staging" },
    ]);
    expect(c.specs[1]?.document.spec.healthcheck).toMatchObject({ interval: "5s", timeout: "3s", retries: 3 });
    expect(c.warnings.some((w) => w.path.includes("x-"))).toBe(false);
    expect(c.warnings.map((w) => `${w.line} ${w.path}`)).toContain("48 services.Report_Builder.container_name");
    // A key merged from an anchor (through two merges) is reported at each service's own `<<:`,
    // naming the line where it is written: a logging without a driver gets Docker's default.
    expect(
      c.warnings.filter((w) => w.path.endsWith(".logging")).map((w) => `${w.line}:${w.column} ${w.message}`),
    ).toEqual(
      ["24:5", "32:5", "46:5"].map(
        (at) =>
          `${at} no driver: berth names json-file, Docker's default (the daemon's may differ) (merged from line 3)`,
      ),
    );
    expect(c.specs.map((s) => s.document.spec.logging)).toEqual(
      c.specs.map(() => ({ driver: "json-file", options: { "max-size": "5m" } })),
    );
  });

  it("interpolation: defaults, required variables, $$, the .env file and the environment", () => {
    const spec = convert("interpolation").specs[0]?.document.spec;
    expect(spec?.image).toBe("registry.example.com:5000/example/app:1.2.3");
    expect(spec?.env).toEqual({
      GREETING: "hello",
      EMPTY_DEFAULT: "fallback",
      DASH_DEFAULT: "",
      COLON_DASH: "used-when-empty",
      PRICE: "$5",
      NESTED: "1.2.3-nested",
      FROM_SHELL: "from the shell",
      PLAIN: "1.2.3",
    });
    expect(spec?.user).toBe("1000:1000");
    // The environment beats the .env file.
    expect(convert("interpolation", { env: { TAG: "9.9" } }).specs[0]?.document.spec.image).toMatch(/:9\.9$/);
  });
});

describe("what cannot be converted is an error with its line", () => {
  const errors = (c: Conversion): string[] => c.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);

  it.each([
    [
      "services:\n  web:\n    image: a\n  worker:\n    command: [sleep, '1']\n",
      "4:3 services.worker: the service has no image or build",
    ],
    [
      "services:\n  web:\n    command: [sleep, '1']\n",
      "1:1 services: no service has image or build: this looks like an override file; give the main Compose file first, then this one (berth import compose compose.yaml /srv/p/compose.yaml)",
    ],
    [
      "services:\n  web:\n    image: a:${TAG:?set TAG}\n",
      "3:12 services.web.image: required variable TAG is not set: set TAG",
    ],
    [
      "services:\n  web:\n    image: a\n    volumes: [data:/data]\n",
      '4:15 services.web.volumes[0]: volume "data" is not declared under the top-level volumes (Compose refuses it too)',
    ],
    [
      "services:\n  web:\n    image: a\n    env_file: missing.env\n",
      "4:15 services.web.env_file: cannot read the env file /srv/p/missing.env",
    ],
    [
      "services:\n  web:\n    image: a\n    command: echo $ x\n",
      '4:14 services.web.command: invalid interpolation: "$" must start $NAME, ${NAME} or $$ (a literal $) in "echo $ x"',
    ],
    [
      "services:\n  web:\n    image: a\n    ulimits: { nofiles: 1024 }\n",
      '4:16 services.web.ulimits.nofiles: "nofiles" is not a ulimit Docker knows (core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)',
    ],
    [
      "services:\n  web:\n    image: a\n    ulimits: { nofile: { soft: 1024 } }\n",
      "4:16 services.web.ulimits.nofile: expected a whole number, or soft and hard as whole numbers (-1: unlimited)",
    ],
    [
      "services:\n  web:\n    image: a\n    restart: always:3\n",
      '4:5 services.web.restart: "always:3" is not a restart policy (no, always, unless-stopped, on-failure[:N])',
    ],
    ["services: [\n", "2:1 : Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ["version: '3'\n", "1:1 services: no services: a Compose file needs a services mapping"],
    [
      "services:\n  web_1:\n    image: a\n  web-1:\n    image: a\n",
      "4:3 services.web-1: its spec would be named web-1, as service web_1's is",
    ],
    [
      "services:\n  a:\n    image: x\n---\nservices:\n  b:\n    image: y\n",
      "4:1 : a Compose file is one YAML document, and this one has a second at line 4: put it in a file of its own and import that",
    ],
  ])("%j", (text, expected) => {
    expect(errors(inline(text))[0]).toBe(expected);
  });

  it("--prefix-names gives PROJECT-SERVICE, and project names are normalised as Compose does", () => {
    const c = convertCompose({
      text: "services:\n  web:\n    image: a\n",
      dir: "/srv/My.App",
      env: {},
      dotenv: null,
      projectName: null,
      prefixNames: true,
      readFile: () => null,
    });
    expect(c.project).toBe("myapp");
    expect(c.specs[0]?.document.metadata.name).toBe("myapp-web");
    expect(c.specs[0]?.document.spec.network).toBe("myapp_default");
  });
});

describe("top-level networks and volumes Compose would create become Network and Volume documents", () => {
  const TEXT = `services:
  web:
    image: a
    networks: [front]
    volumes: [data:/data, cache:/cache, logs:/logs, shared:/shared]
  idle:
    image: a
    network_mode: none
networks:
  front:
    driver: bridge
    internal: true
    attachable: true
    driver_opts: { com.docker.network.bridge.enable_icc: "false" }
    labels: [team=web]
    enable_ipv6: true
    ipam:
      config:
        - subnet: 172.30.0.0/24
          gateway: 172.30.0.1
  unused: {}
  outside: { external: true, driver: overlay }
volumes:
  data: {}
  cache:
    driver: local
    driver_opts: { type: tmpfs, device: tmpfs, o: size=64m }
    labels: { tier: cache }
  logs: { external: true }
  shared: { name: team-shared, labels: { owner: ops } }
`;
  const c = convertCompose({
    text: TEXT,
    dir: "/srv/p",
    env: {},
    dotenv: null,
    projectName: "p",
    prefixNames: false,
    readFile: () => null,
  });

  it("a used network with its config, a configured volume, and nothing for plain, unused or external ones", () => {
    expect(c.errors).toEqual([]);
    expect(c.objects.map((o) => [o.key, o.line, o.document])).toEqual([
      [
        "front",
        10,
        {
          apiVersion: "berth/v1",
          kind: "Network",
          metadata: { name: "p_front", labels: { team: "web" } },
          spec: {
            driver: "bridge",
            internal: true,
            attachable: true,
            options: { "com.docker.network.bridge.enable_icc": "false" },
            subnet: "172.30.0.0/24",
          },
        },
      ],
      [
        "cache",
        25,
        {
          apiVersion: "berth/v1",
          kind: "Volume",
          metadata: { name: "p_cache", labels: { tier: "cache" } },
          spec: { driver: "local", options: { type: "tmpfs", device: "tmpfs", o: "size=64m" } },
        },
      ],
      [
        "shared",
        30,
        { apiVersion: "berth/v1", kind: "Volume", metadata: { name: "team-shared", labels: { owner: "ops" } } },
      ],
    ]);
    expect(admission(c)).toEqual([]);
  });

  it("what the documents cannot hold is a warning at its line", () => {
    expect(c.warnings.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      "16 networks.front.enable_ipv6: berth's Network spec has no enable_ipv6: ignored",
      "20 networks.front.ipam.config[0].gateway: berth's Network spec has one IPv4 subnet (the first config's): ignored",
      "22 networks.outside.driver: an external network is not made: ignored",
      "25 volumes.cache: berth creates volume p_cache from a kind: Volume document and does not adopt one of that name that Compose made (apply says it exists and berth does not own it): on a host moving from Compose, leave p_cache.volume.yaml out to keep the existing volume as it is, or copy its data out and remove it for berth to create it",
      "30 volumes.shared: berth creates volume team-shared from a kind: Volume document and does not adopt one of that name that Compose made (apply says it exists and berth does not own it): on a host moving from Compose, leave team-shared.volume.yaml out to keep the existing volume as it is, or copy its data out and remove it for berth to create it",
    ]);
  });
});

describe("build: maps to spec.build", () => {
  const findings = (c: Conversion): string[] =>
    [...c.warnings, ...c.errors].map((f) => `${f.line}:${f.column} ${f.path}: ${f.message}`);

  it.each([
    ["the string form is the context", "services:\n  web:\n    build: ./app\n", { context: "./app" }, []],
    [
      "the mapping form, args from the file and the environment",
      "services:\n  web:\n    build:\n      context: app\n      dockerfile: docker/Dockerfile\n      target: runtime\n      args:\n        - VERSION=1.4\n        - FROM_SHELL\n        - UNSET\n",
      {
        context: "app",
        dockerfile: "docker/Dockerfile",
        target: "runtime",
        args: { VERSION: "1.4", FROM_SHELL: "yes" },
      },
      [
        "10:11 services.web.build.args.UNSET: UNSET takes its value from the environment, where it is not set: left out",
      ],
    ],
    [
      "what berth's builds cannot do is listed",
      "services:\n  web:\n    build:\n      context: .\n      secrets: [npm_token]\n      ssh: [default]\n",
      { context: "." },
      [
        "5:7 services.web.build.secrets: not supported: the Engine API's build endpoint has no BuildKit secrets; pass secrets at run time with secretEnv",
        "6:7 services.web.build.ssh: not supported: the Engine API's build endpoint has no BuildKit ssh forwarding",
      ],
    ],
    [
      "image beside build is left out",
      "services:\n  web:\n    image: shop/web:1\n    build: .\n",
      { context: "." },
      ["3:5 services.web.image: with build, berth tags the image berth.local/<spec>:<context hash>: image is left out"],
    ],
  ])("%s", (_name, text, build, expected) => {
    const c = inline(text, { FROM_SHELL: "yes" });
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.build).toEqual(build);
    expect(c.specs[0]?.document.spec.image).toBeUndefined();
    expect(findings(c)).toEqual(expected);
  });
});

describe("tmpfs mode is octal however the YAML writes it", () => {
  const tmpfs = (mode: string): string =>
    `services:\n  svc:\n    image: a\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs:\n          mode: ${mode}\n`;

  it.each([
    ["0o647", 0o647],
    ["0o1777", 0o1777],
    ["0o755", 0o755],
    ["01777", 0o1777],
    ["1777", 0o1777],
    ['"1777"', 0o1777],
    ["0", 0],
  ])("mode: %s", (mode, expected) => {
    const c = inline(tmpfs(mode));
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.mounts).toEqual([{ type: "tmpfs", target: "/t", mode: expected }]);
  });

  it.each([
    ["0o17777", '5:9 services.svc.volumes[0]: tmpfs mode "0o17777" is not octal (e.g. 1777)'],
    ["0x1F", '5:9 services.svc.volumes[0]: tmpfs mode "0x1F" is not octal (e.g. 1777)'],
    ["1779", '5:9 services.svc.volumes[0]: tmpfs mode "1779" is not octal (e.g. 1777)'],
  ])("mode: %s is refused as written", (mode, expected) => {
    expect(inline(tmpfs(mode)).errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual([expected]);
  });

  it("the tmpfs key's mode= option too", () => {
    const c = inline("services:\n  svc:\n    image: a\n    tmpfs: ['/run:mode=01777', '/tmp:mode=0o755']\n");
    expect(c.errors).toEqual([]);
    expect(c.specs[0]?.document.spec.mounts).toEqual([
      { type: "tmpfs", target: "/run", mode: 0o1777 },
      { type: "tmpfs", target: "/tmp", mode: 0o755 },
    ]);
  });
});

describe("a long-syntax port's mode, name and app_protocol are warnings at their line", () => {
  it.each([
    [
      "mode: host",
      "7:9 services.svc.ports[0].mode: berth's ports have no mode (a Swarm setting): berth publishes on the host directly",
    ],
    [
      "mode: ingress",
      "7:9 services.svc.ports[0].mode: berth's ports have no mode (a Swarm setting): berth publishes on the host directly",
    ],
    ["mode: bogus", "7:9 services.svc.ports[0].mode: unknown port mode, ignored"],
    ["name: web", "7:9 services.svc.ports[0].name: berth's ports have no name or application protocol"],
    [
      "app_protocol: http",
      "7:9 services.svc.ports[0].app_protocol: berth's ports have no name or application protocol",
    ],
  ])("%s", (line, expected) => {
    const c = inline(
      `services:\n  svc:\n    image: a\n    ports:\n      - target: 80\n        published: 8080\n        ${line}\n`,
    );
    expect(c.errors).toEqual([]);
    expect(c.warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${w.message}`)).toEqual([expected]);
    expect(c.specs[0]?.document.spec.ports).toEqual([{ containerPort: 80, hostPort: 8080, hostIP: "0.0.0.0" }]);
  });
});
