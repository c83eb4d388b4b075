/**
 * Invalid spec inputs for the golden error tests: each case is the text (or bytes) of one file
 * named `bad.yaml`. The expected error lines live beside them in test/unit/errors-golden.test.ts.
 */

/** A valid document with `extra` lines appended under `spec:` (indented by two). */
export function withSpec(...extra: string[]): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    "  name: web",
    "spec:",
    "  image: busybox:latest",
    ...extra.map((l) => `  ${l}`),
    "",
  ].join("\n");
}

/** A valid document with `metadata` lines replaced. */
export function withMetadata(...lines: string[]): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    ...lines.map((l) => `  ${l}`),
    "spec:",
    "  image: busybox:latest",
    "",
  ].join("\n");
}

const aliasBomb = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]",
  "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]",
  "j: &j [*i,*i,*i,*i,*i,*i,*i,*i,*i]",
  "k: &k [*j,*j,*j,*j,*j,*j,*j,*j,*j]",
  "l: &l [*k,*k,*k,*k,*k,*k,*k,*k,*k]",
  "",
].join("\n");

/** A `kind: Network` or `kind: Volume` document named `name`, with `spec` lines (indented by two). */
export function declared(kind: "Network" | "Volume", name: string, ...spec: string[]): string {
  return [
    "apiVersion: berth/v1",
    `kind: ${kind}`,
    "metadata:",
    `  name: ${name}`,
    ...(spec.length > 0 ? ["spec:", ...spec.map((l) => `  ${l}`)] : []),
    "",
  ].join("\n");
}

/** Name → file content. Insertion order is the order of the golden table. */
export const INVALID_CASES: Readonly<Record<string, string | Uint8Array>> = {
  // Wrong types.
  "image is a number": withSpec("image: 5").replace("  image: busybox:latest\n", ""),
  "command is a string": withSpec('command: "sleep infinity"'),
  "env value is a number": withSpec("env:", "  PORT: 8080"),
  "replicas is quoted": withSpec('replicas: "3"'),
  "suspended is a string": withSpec('suspended: "yes"'),
  "resources is a list": withSpec("resources: [1, 2]"),
  "image is empty": withSpec("image:").replace("  image: busybox:latest\n", ""),
  // Unknown and misspelt fields and values.
  "spec misspelt at the top": withSpec().replace("spec:", "sepc:"),
  "workDir instead of workingDir": withSpec("workDir: /app"),
  "restartpolicy in the wrong case": withSpec("restartpolicy: Always"),
  "imagePullPolicy in lower case": withSpec("imagePullPolicy: always"),
  "updateStrategy misspelt": withSpec("updateStrategy: StartFrist"),
  "unknown field in a mount": withSpec("mounts:", "  - { type: bind, source: /srv, target: /srv, size: 1Gi }"),
  "unknown field with no near match": withSpec("colour: blue"),
  // Quantities and durations.
  "memory with a space": withSpec("resources:", '  memory: "1 GB"'),
  "memory with a wrong suffix": withSpec("resources:", "  memory: 1Gb"),
  "memory in MB": withSpec("resources:", "  memory: 512MB"),
  "memory in Docker's m": withSpec("resources:", "  memory: 512m"),
  "tmpfs size in GiB": withSpec("mounts:", "  - { type: tmpfs, target: /tmp, size: 2GiB }"),
  "memory below the Docker minimum": withSpec("resources:", "  memory: 1Mi"),
  "reservation above the limit": withSpec("resources:", "  memory: 256Mi", "  memoryReservation: 1Gi"),
  "cpus in words": withSpec("resources:", '  cpus: "2 cores"'),
  "ulimit soft above hard": withSpec("ulimits:", "  nofile: { soft: 4096, hard: 1024 }"),
  "ulimit soft unlimited under a hard limit": withSpec("ulimits:", "  core: { soft: -1, hard: 0 }"),
  "ulimit nofile unlimited": withSpec("ulimits:", "  nofile: -1"),
  "ulimit name misspelt": withSpec("ulimits:", "  nofiles: 1024"),
  "ulimit name unknown": withSpec("ulimits:", "  openfiles: 1024"),
  "ulimit negative": withSpec("ulimits:", "  nproc: -2"),
  "ulimit without its hard limit": withSpec("ulimits:", "  nproc: { soft: 512 }"),
  "ulimit quoted": withSpec("ulimits:", '  nproc: "512"'),
  "cpus zero": withSpec("resources:", "  cpus: 0"),
  "shmSize beside a /dev/shm mount": withSpec("shmSize: 256Mi", "mounts: [{ type: tmpfs, target: /dev/shm }]"),
  "stableFor on a run": withSpec("restartPolicy: OnFailure", "stableFor: 10s"),
  "updatePartition on a run": withSpec("restartPolicy: Never", "updatePartition: 1"),
  "updatePartition on a pool": withSpec("pool: { size: 3 }", "updatePartition: 1"),
  "updatePartition negative": withSpec("replicas: 3", "updatePartition: -1"),
  "shmSize in MB": withSpec("shmSize: 256MB"),
  "stopSignal without SIG": withSpec("stopSignal: quit"),
  "hostAliases without hostnames": withSpec("hostAliases: [{ ip: 10.0.0.5 }]"),
  "hostAliases ip a name": withSpec("hostAliases: [{ ip: db, hostnames: [db.internal] }]"),
  "dnsConfig empty": withSpec("dnsConfig: {}"),
  "logging without a driver": withSpec("logging: { options: { max-size: 10m } }"),
  "logging option a number": withSpec("logging: { driver: json-file, options: { max-file: 3 } }"),
  "stopTimeout without a unit": withSpec('stopTimeout: "10"'),
  "activeDeadline on a container that always runs": withSpec("activeDeadline: 30m"),
  "ttlAfterFinished with restartPolicy Always": withSpec("restartPolicy: Always", "ttlAfterFinished: 10m"),
  "backoffLimit without OnFailure": withSpec("restartPolicy: Never", "backoffLimit: 3"),
  "healthcheck interval in words": withSpec("healthcheck:", '  command: ["true"]', "  interval: 5 seconds"),
  "healthcheck timeout zero": withSpec("healthcheck:", '  command: ["true"]', "  timeout: 0s"),
  "healthcheck command with Docker's CMD": withSpec(
    "healthcheck:",
    '  command: ["CMD", "test", "-e", "/tmp/ready"]',
    "  interval: 1s",
  ),
  "healthcheck command with Docker's CMD-SHELL": withSpec(
    "healthcheck: { command: [CMD-SHELL, 'pg_isready -U shop'] }",
  ),
  "healthcheck command NONE": withSpec("healthcheck:", "  command: [NONE]"),
  // Names.
  "name with capitals": withMetadata("name: Web"),
  "name too long": withMetadata(`name: ${"a".repeat(64)}`),
  "name missing": withMetadata("labels: { a: b }"),
  "image missing": withSpec().replace("  image: busybox:latest\n", "  command: [sh]\n"),
  "image with capitals": withSpec("image: Busybox").replace("  image: busybox:latest\n", ""),
  "user with an empty group": withSpec('user: "root:"'),
  "env name starting with a digit": withSpec("env:", '  1ABC: "x"'),
  // Ports.
  "containerPort above 65535": withSpec("ports:", "  - containerPort: 70000"),
  "hostPort zero": withSpec("ports:", "  - { containerPort: 80, hostPort: 0 }"),
  "protocol http": withSpec("ports:", "  - { containerPort: 80, protocol: http }"),
  "the same host port twice": withSpec(
    "ports:",
    "  - { containerPort: 80, hostPort: 8080 }",
    "  - { containerPort: 81, hostPort: 8080 }",
  ),
  "hostIP without hostPort": withSpec("ports:", "  - { containerPort: 80, hostIP: 0.0.0.0 }"),
  "replicas with a host port": withSpec("replicas: 3", "ports:", "  - { containerPort: 80, hostPort: 8080 }"),
  "hostPort neither a number nor auto": withSpec("ports:", "  - { containerPort: 80, hostPort: any }"),
  "the same container port on two auto ports": withSpec(
    "ports:",
    "  - { containerPort: 80, hostPort: auto }",
    "  - { containerPort: 80, hostPort: auto }",
  ),
  "ports with network host": withSpec("network: host", "ports:", "  - { containerPort: 80 }"),
  "extraNetworks with network none": withSpec("network: none", "extraNetworks: [backend]"),
  "extraNetworks naming bridge and the primary twice": withSpec(
    "network: front",
    "extraNetworks: [bridge, front, back, back]",
  ),
  // Timestamps.
  "expiresAt in words": withSpec("expiresAt: tomorrow"),
  "expiresAt on February 30th": withSpec('expiresAt: "2026-02-30T00:00:00Z"'),
  "expiresAt without a zone": withSpec('expiresAt: "2026-01-01T00:00:00"'),
  // Labels.
  "reserved label": withMetadata("name: web", "labels:", "  berth.spec: other"),
  "label value is a number": withMetadata("name: web", "labels:", "  com.example.port: 80"),
  "label key with a space": withMetadata("name: web", "labels:", '  "com example": x'),
  // Document shape.
  "apiVersion v1": withSpec().replace("berth/v1", "v1"),
  "kind Pod": withSpec().replace("kind: Container", "kind: Pod"),
  "a list, not a mapping": "- apiVersion: berth/v1\n- kind: Container\n",
  "a Docker Compose file": 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n',
  "a Compose file with a version": 'version: "3.8"\nservices:\n  db:\n    image: postgres:16\n',
  "a Kubernetes Pod": [
    "apiVersion: v1",
    "kind: Pod",
    "metadata:",
    "  name: web",
    "spec:",
    "  containers:",
    "    - { name: web, image: nginx }",
    "",
  ].join("\n"),
  "a Kubernetes Deployment": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
  "a Kubernetes Service": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
  "a plain string": "hello world\n",
  // Mounts and secrets.
  "mount type nfs": withSpec("mounts:", "  - { type: nfs, source: server:/x, target: /x }"),
  "mount with a relative source": withSpec("mounts:", "  - { type: bind, source: ./data, target: /data }"),
  "two mounts on one target": withSpec(
    "mounts:",
    "  - { type: volume, source: a, target: /data }",
    "  - { type: tmpfs, target: /data/ }",
  ),
  "perInstance on a bind mount": withSpec(
    "mounts:",
    "  - { type: bind, source: /srv/a, target: /a, perInstance: true }",
  ),
  "perInstance on a tmpfs mount": withSpec("mounts:", "  - { type: tmpfs, target: /t, perInstance: true }"),
  "reclaimPolicy without perInstance": withSpec(
    "mounts:",
    "  - { type: volume, source: data, target: /data, reclaimPolicy: Retain }",
  ),
  "reclaimPolicy with perInstance false": withSpec(
    "mounts:",
    "  - { type: volume, source: data, target: /data, perInstance: false, reclaimPolicy: Delete }",
  ),
  "reclaimPolicy misspelt": withSpec(
    "mounts:",
    "  - { type: volume, source: data, target: /data, perInstance: true, reclaimPolicy: Keep }",
  ),
  "secret with two sources": withSpec("secretEnv:", "  TOKEN: { fromHostEnv: TOKEN, fromFile: /run/token }"),
  "secret also in env": withSpec("env:", '  TOKEN: "x"', "secretEnv:", "  TOKEN: { fromHostEnv: TOKEN }"),
  // YAML itself.
  "unclosed flow sequence": withSpec("command: [sleep, infinity"),
  "tab indentation": withSpec().replace("  image: busybox:latest", "\timage: busybox:latest"),
  "duplicate key": withSpec("image: alpine:3"),
  "a BOM before an error": `\uFEFF${withSpec("replicas: -1")}`,
  "an empty file": "",
  "only comments": "# nothing here yet\n",
  "second document invalid": `${withSpec()}---\n${withSpec("replicas: many").replace("name: web", "name: api")}`,
  "alias bomb": aliasBomb,
  "an alias without its anchor": withSpec("env: *nope"),
  "an anchor of an earlier document": `x: &base { A: "1" }\n---\n${withSpec("env: *base")}`,
  "deep flow nesting": `${withSpec()}  command: ${"[".repeat(100)}${"]".repeat(100)}\n`,
  "too many documents": "---\na: 1\n".repeat(600),
  "too many documents, first without a marker": `a: 1\n${"---\na: 1\n".repeat(600)}`,
  "a custom tag": withSpec("command: !shell sleep infinity"),
  // Not text, or too big.
  "binary garbage": Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe]),
  "invalid UTF-8": new TextEncoder().encode(withSpec("env:", '  NAME: "caf\u00e9"')).map((b) => (b === 0xc3 ? 0xc0 : b)),
  "a 10 MB file": new Uint8Array(10 * 1024 * 1024).fill(0x61),
  "a file just above 1 MiB": new Uint8Array(1024 * 1024 + 50_000).fill(0x61),
  // kind: Network and kind: Volume.
  "network option misspelt": declared("Network", "tidepool", "internl: true"),
  "network driver macvlan": declared("Network", "lan", "driver: macvlan"),
  "network subnet not CIDR": declared("Network", "tidepool", "subnet: 10.0.0.0"),
  "volume binding /etc": declared("Volume", "etc", "options: { type: none, o: bind, device: /etc }"),
  "volume binding a folder not allowed": declared("Volume", "data", "options: { type: none, o: bind, device: /srv/data }"),
  "volume with a reserved label": declared("Volume", "cache").replace("  name: cache", "  name: cache\n  labels: { berth.spec: x }"),
  "volume name with a slash": declared("Volume", "a/b"),
  "kind misspelt": withSpec().replace("kind: Container", "kind: Netwrok"),
};
