/**
 * Golden error tests: each invalid input (test/golden/invalid-cases.ts) → the exact error lines
 * `berth validate` prints for it. A change to any message shows up here, on purpose.
 */
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { parseSpecBytes } from "../../../src/manifest/parse.js";
import { INVALID_CASES } from "../../golden/invalid-cases.js";

const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  "image is a number": [
    'bad.yaml:6:10: spec.image: expected an image reference (e.g. busybox:latest, registry.example.com:5000/team/agent:1.4), got 5; quote it: "5"',
  ],
  "command is a string": ['bad.yaml:7:12: spec.command: expected a list, got the string "sleep infinity"'],
  "env value is a number": ['bad.yaml:8:11: spec.env.PORT: expected a string, got 8080; quote it: "8080"'],
  "replicas is quoted": [
    'bad.yaml:7:13: spec.replicas: expected a whole number, got the string "3"; remove the quotes',
  ],
  "suspended is a string": ['bad.yaml:7:14: spec.suspended: expected true or false, got the string "yes"'],
  "resources is a list": ["bad.yaml:7:14: spec.resources: expected a mapping, got a list"],
  "image is empty": [
    "bad.yaml:6:9: spec.image: expected an image reference (e.g. busybox:latest, registry.example.com:5000/team/agent:1.4), got nothing",
  ],
  "spec misspelt at the top": [
    'bad.yaml:1:1: missing required field "spec"',
    'bad.yaml:5:1: sepc: unknown field "sepc"; did you mean "spec"?',
  ],
  "workDir instead of workingDir": ['bad.yaml:7:3: spec.workDir: unknown field "workDir"; did you mean "workingDir"?'],
  "restartpolicy in the wrong case": [
    'bad.yaml:7:3: spec.restartpolicy: unknown field "restartpolicy"; did you mean "restartPolicy"?',
  ],
  "imagePullPolicy in lower case": [
    'bad.yaml:7:20: spec.imagePullPolicy: "always" is not one of IfNotPresent, Always or Never; did you mean "Always"?',
  ],
  "updateStrategy misspelt": [
    'bad.yaml:7:19: spec.updateStrategy: "StartFrist" is not one of StartFirst or StopFirst; did you mean "StartFirst"?',
  ],
  "unknown field in a mount": [
    'bad.yaml:8:49: spec.mounts[0].size: unknown field "size"; the valid fields are type, source, target and readOnly',
  ],
  "unknown field with no near match": [
    'bad.yaml:7:3: spec.colour: unknown field "colour" (see `berth schema` for the valid fields)',
  ],
  "memory with a space": [
    'bad.yaml:8:13: spec.resources.memory: "1 GB" is not a quantity (e.g. 512Mi, 1Gi); did you mean "1Gi" (or "1G")?',
  ],
  "memory with a wrong suffix": [
    'bad.yaml:8:13: spec.resources.memory: "1Gb" is not a quantity (e.g. 512Mi, 1Gi); did you mean "1Gi" (or "1G")?',
  ],
  "memory in MB": [
    'bad.yaml:8:13: spec.resources.memory: "512MB" is not a quantity (e.g. 512Mi, 1Gi); did you mean "512Mi" (or "512M")?',
  ],
  "memory in Docker's m": [
    'bad.yaml:8:13: spec.resources.memory: "512m" is not a quantity (e.g. 512Mi, 1Gi); did you mean "512Mi"?',
  ],
  "tmpfs size in GiB": [
    'bad.yaml:8:42: spec.mounts[0].size: "2GiB" is not a quantity (e.g. 512Mi, 1Gi); did you mean "2Gi"?',
  ],
  "shmSize beside a /dev/shm mount": [
    "bad.yaml:7:12: spec.shmSize: spec.mounts[0] already mounts /dev/shm: set its size there, or drop the mount",
  ],
  "stableFor on a run": [
    "bad.yaml:8:14: spec.stableFor: stableFor is for containers that keep running (restartPolicy Always); a run's (OnFailure) is meant to exit",
  ],
  "updatePartition on a run": [
    "bad.yaml:8:20: spec.updatePartition: updatePartition is for replicas that keep running: a run (restartPolicy Never) is made again whole, not rolled replica by replica",
  ],
  "updatePartition on a pool": [
    "bad.yaml:8:20: spec.updatePartition: updatePartition is for replicas that keep running: a pool's members are interchangeable: each refill is made at the spec's version",
  ],
  "updatePartition negative": ["bad.yaml:8:20: spec.updatePartition: -1 is below the minimum 0"],
  "shmSize in MB": [
    'bad.yaml:7:12: spec.shmSize: "256MB" is not a quantity (e.g. 512Mi, 1Gi); did you mean "256Mi" (or "256M")?',
  ],
  "stopSignal without SIG": [
    'bad.yaml:7:15: spec.stopSignal: "quit" is not a signal name such as SIGQUIT, or its number (e.g. SIGQUIT, SIGINT)',
  ],
  "hostAliases without hostnames": ['bad.yaml:7:17: spec.hostAliases[0]: missing required field "hostnames"'],
  "hostAliases ip a name": [
    'bad.yaml:7:23: spec.hostAliases[0].ip: "db" is not an IPv4 or IPv6 address, or host-gateway (e.g. 10.0.0.5, host-gateway)',
  ],
  "dnsConfig empty": ["bad.yaml:7:14: spec.dnsConfig: expected nameservers, searches and/or options"],
  "logging without a driver": ['bad.yaml:7:3: spec.logging: missing required field "driver"'],
  "logging option a number": [
    'bad.yaml:7:54: spec.logging.options["max-file"]: expected a string, got 3; quote it: "3"',
  ],
  "memory below the Docker minimum": ['bad.yaml:8:13: spec.resources.memory: "1Mi" is below Docker\'s minimum of 6Mi'],
  "reservation above the limit": [
    'bad.yaml:9:24: spec.resources.memoryReservation: "1Gi" is above the memory limit "256Mi"; a reservation must not exceed the limit',
  ],
  "ulimit soft above hard": [
    "bad.yaml:8:21: spec.ulimits.nofile.soft: soft limit 4096 is above the hard limit 1024; soft must be at most hard (-1 is unlimited)",
  ],
  "ulimit soft unlimited under a hard limit": [
    "bad.yaml:8:19: spec.ulimits.core.soft: soft limit -1 is above the hard limit 0; soft must be at most hard (-1 is unlimited)",
  ],
  "ulimit nofile unlimited": [
    "bad.yaml:8:13: spec.ulimits.nofile: nofile cannot be unlimited (-1): the kernel allows at most fs.nr_open open files (1048576 by default); write a number",
  ],
  "ulimit name misspelt": ['bad.yaml:8:5: spec.ulimits.nofiles: unknown name "nofiles"; did you mean "nofile"?'],
  "ulimit name unknown": [
    'bad.yaml:8:5: spec.ulimits.openfiles: unknown name "openfiles"; the valid names are core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending and stack',
  ],
  "ulimit negative": ["bad.yaml:8:12: spec.ulimits.nproc: -2 is below the minimum -1"],
  "ulimit without its hard limit": ['bad.yaml:8:5: spec.ulimits.nproc: missing required field "hard"'],
  "ulimit quoted": [
    'bad.yaml:8:12: spec.ulimits.nproc: expected a number, or {soft, hard} (e.g. 1024), got the string "512"; remove the quotes',
  ],
  "cpus in words": ['bad.yaml:8:11: spec.resources.cpus: "2 cores" is not a CPU quantity (e.g. 1, 250m, 0.5)'],
  "cpus zero": ["bad.yaml:8:11: spec.resources.cpus: 0 is too small: it must be more than 0"],
  "stopTimeout without a unit": ['bad.yaml:7:16: spec.stopTimeout: "10" is not a duration (e.g. 500ms, 10s, 1m30s)'],
  "activeDeadline on a container that always runs": [
    "bad.yaml:7:19: spec.activeDeadline: applies only to runs that finish: set restartPolicy: Never or OnFailure (restartPolicy is Always, the default)",
  ],
  "ttlAfterFinished with restartPolicy Always": [
    "bad.yaml:8:21: spec.ttlAfterFinished: applies only to runs that finish: set restartPolicy: Never or OnFailure (restartPolicy is Always)",
  ],
  "backoffLimit without OnFailure": [
    "bad.yaml:8:17: spec.backoffLimit: applies only to restartPolicy: OnFailure (restartPolicy is Never)",
  ],
  "healthcheck interval in words": [
    'bad.yaml:9:15: spec.healthcheck.interval: "5 seconds" is not a duration (e.g. 500ms, 10s, 1m30s)',
  ],
  "healthcheck timeout zero": ["bad.yaml:9:14: spec.healthcheck.timeout: must be at least 1ms (Docker's minimum)"],
  "healthcheck command with Docker's CMD": [
    'bad.yaml:8:15: spec.healthcheck.command[0]: "CMD" is Docker\'s prefix and berth adds it itself; write the command alone: ["test", "-e", "/tmp/ready"]',
  ],
  "healthcheck command with Docker's CMD-SHELL": [
    'bad.yaml:7:28: spec.healthcheck.command[0]: "CMD-SHELL" is Docker\'s prefix for a shell command and berth runs the command as written; write ["/bin/sh", "-c", "pg_isready -U shop"]',
  ],
  "healthcheck command NONE": [
    'bad.yaml:8:15: spec.healthcheck.command[0]: "NONE" turns a healthcheck off in Docker; berth cannot turn off an image\'s healthcheck: leave spec.healthcheck out',
  ],
  "name with capitals": [
    "bad.yaml:4:9: metadata.name: \"Web\" is not a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. web, tidepool-agent-abc)",
  ],
  "name too long": ["bad.yaml:4:9: metadata.name: is 64 characters long; the limit is 63"],
  "name missing": ['bad.yaml:3:1: metadata: missing required field "name"'],
  "image missing": ['bad.yaml:5:1: spec: missing required field "image" (or "build": a folder to build it from)'],
  "image with capitals": [
    'bad.yaml:6:10: spec.image: "Busybox" is not an image reference (e.g. busybox:latest, registry.example.com:5000/team/agent:1.4)',
  ],
  "user with an empty group": [
    'bad.yaml:7:9: spec.user: "root:" is not a user as uid, name, uid:gid or name:group (e.g. 1000:1000, nobody)',
  ],
  "env name starting with a digit": [
    "bad.yaml:8:5: spec.env[\"1ABC\"]: key \"1ABC\" is not an environment variable name: letters, digits, '_', '.' and '-', not starting with a digit (e.g. NODE_ENV, discovery.type)",
  ],
  "containerPort above 65535": ["bad.yaml:8:22: spec.ports[0].containerPort: 70000 is above the maximum 65535"],
  "hostPort zero": ["bad.yaml:8:38: spec.ports[0].hostPort: 0 is below the minimum 1"],
  "protocol http": [
    'bad.yaml:8:38: spec.ports[0].protocol: "http" is not one of tcp, udp or sctp; did you mean "tcp"?',
  ],
  "the same host port twice": [
    "bad.yaml:9:38: spec.ports[1].hostPort: host port 127.0.0.1:8080/tcp is already published by spec.ports[0]",
  ],
  "hostIP without hostPort": [
    "bad.yaml:8:36: spec.ports[0].hostIP: hostIP has no effect without hostPort; set hostPort to publish the port",
  ],
  "replicas with a host port": [
    "bad.yaml:7:13: spec.replicas: 3 replicas cannot all publish the same host port; use replicas: 1 or drop hostPort",
  ],
  "hostPort neither a number nor auto": [
    'bad.yaml:8:38: spec.ports[0].hostPort: "any" is not a port from 1 to 65535, or auto (e.g. 8080, auto)',
  ],
  "the same container port on two auto ports": [
    "bad.yaml:9:38: spec.ports[1].hostPort: 80/tcp is already published on an auto port by spec.ports[0]",
  ],
  "ports with network host": [
    'bad.yaml:9:5: spec.ports: ports cannot be used with network "host": the container has no network of its own',
  ],
  "extraNetworks with network none": [
    'bad.yaml:8:18: spec.extraNetworks: extraNetworks cannot be used with network "none": use a user-defined network or bridge as network',
  ],
  "extraNetworks naming bridge and the primary twice": [
    "bad.yaml:8:19: spec.extraNetworks[0]: bridge is not a user-defined network: list networks made with a name",
    "bad.yaml:8:27: spec.extraNetworks[1]: front is the primary network already (spec.network)",
    "bad.yaml:8:40: spec.extraNetworks[3]: back is already listed at spec.extraNetworks[2]",
  ],
  "expiresAt in words": [
    'bad.yaml:7:14: spec.expiresAt: "tomorrow" is not an RFC 3339 time or never (e.g. 2026-01-26T00:00:00Z, never)',
  ],
  "expiresAt on February 30th": ['bad.yaml:7:14: spec.expiresAt: "2026-02-30T00:00:00Z" is not a real date and time'],
  "expiresAt without a zone": [
    'bad.yaml:7:14: spec.expiresAt: "2026-01-01T00:00:00" is not an RFC 3339 time or never (e.g. 2026-01-26T00:00:00Z, never)',
  ],
  "reserved label": [
    'bad.yaml:6:5: metadata.labels["berth.spec"]: label keys under "berth." are reserved for berth; use your own prefix (e.g. com.example.spec)',
  ],
  "label value is a number": [
    'bad.yaml:6:23: metadata.labels["com.example.port"]: expected a string, got 80; quote it: "80"',
  ],
  "label key with a space": [
    "bad.yaml:6:5: metadata.labels[\"com example\"]: key \"com example\" is not a label key: letters, digits, '.', '_', '/', '-', starting and ending with a letter or digit (e.g. com.example.team, app)",
  ],
  "apiVersion v1": ['bad.yaml:1:13: apiVersion: "v1" is not supported; expected "berth/v1"'],
  "kind Pod": ['bad.yaml:2:7: kind: "Pod" is not one of Container, Network or Volume'],
  "a list, not a mapping": ["bad.yaml:1:1: expected a mapping with apiVersion, kind, metadata and spec, got a list"],
  "a Docker Compose file": [
    "bad.yaml:1:1: this looks like a Docker Compose file, not a berth spec: convert it with `berth import compose bad.yaml`",
  ],
  "a Compose file with a version": [
    "bad.yaml:1:1: this looks like a Docker Compose file, not a berth spec: convert it with `berth import compose bad.yaml`",
  ],
  "a Kubernetes Pod": [
    "bad.yaml:1:1: this looks like a Kubernetes Pod (apiVersion v1), not a berth spec: write one document per container with apiVersion: berth/v1 and kind: Container, and move the container's image, env, ports and resources to its spec (Kubernetes' command is berth's entrypoint, its args berth's command; `berth schema` lists every field)",
  ],
  "a Kubernetes Deployment": [
    "bad.yaml:1:1: this looks like a Kubernetes Deployment (apiVersion apps/v1), not a berth spec: write one document per container with apiVersion: berth/v1 and kind: Container, and move the container's image, env, ports and resources to its spec (Kubernetes' command is berth's entrypoint, its args berth's command; `berth schema` lists every field)",
  ],
  "a Kubernetes Service": [
    "bad.yaml:1:1: this looks like a Kubernetes Service (apiVersion v1), not a berth spec: berth runs containers only (apiVersion: berth/v1, kind: Container)",
  ],
  "a plain string": [
    'bad.yaml:1:1: expected a mapping with apiVersion, kind, metadata and spec, got the string "hello world"',
  ],
  "mount type nfs": ['bad.yaml:8:15: spec.mounts[0].type: "nfs" is not one of bind, volume or tmpfs'],
  "mount with a relative source": [
    'bad.yaml:8:29: spec.mounts[0].source: "./data" is not an absolute path (e.g. /workspace)',
  ],
  "two mounts on one target": [
    'bad.yaml:9:30: spec.mounts[1].target: "/data/" is already the target of spec.mounts[0]',
  ],
  "perInstance on a bind mount": [
    'bad.yaml:8:49: spec.mounts[0].perInstance: "perInstance" applies only to volume mounts (type: volume), not to a bind mount; its fields are type, source, target and readOnly',
  ],
  "perInstance on a tmpfs mount": [
    'bad.yaml:8:34: spec.mounts[0].perInstance: "perInstance" applies only to volume mounts (type: volume), not to a tmpfs mount; its fields are type, target, size and mode',
  ],
  "reclaimPolicy without perInstance": [
    "bad.yaml:8:67: spec.mounts[0].reclaimPolicy: reclaimPolicy applies only to a per-instance volume; add perInstance: true, or drop reclaimPolicy (a shared volume is never removed by berth)",
  ],
  "reclaimPolicy with perInstance false": [
    "bad.yaml:8:87: spec.mounts[0].reclaimPolicy: reclaimPolicy applies only to a per-instance volume; add perInstance: true, or drop reclaimPolicy (a shared volume is never removed by berth)",
  ],
  "reclaimPolicy misspelt": ['bad.yaml:8:86: spec.mounts[0].reclaimPolicy: "Keep" is not one of Delete or Retain'],
  "secret with two sources": ["bad.yaml:8:12: spec.secretEnv.TOKEN: expected exactly one of fromHostEnv or fromFile"],
  "secret also in env": [
    "bad.yaml:10:5: spec.secretEnv.TOKEN: TOKEN is also set in spec.env; keep it in one of the two",
  ],
  "unclosed flow sequence": [
    "bad.yaml:7:12: invalid YAML: this [ is not closed by a ] (or the lines after it are not indented enough)",
  ],
  "tab indentation": ["bad.yaml:6:1: invalid YAML: tabs are not allowed in YAML indentation; indent with spaces"],
  "duplicate key": ['bad.yaml:7:3: duplicate key "image" (first at line 6); a key may appear once per mapping'],
  "a BOM before an error": ["bad.yaml:7:13: spec.replicas: -1 is below the minimum 0"],
  "an empty file": [
    "bad.yaml:1:1: holds no documents; an empty file is refused rather than read as 'delete everything' (remove the file to remove its specs)",
  ],
  "only comments": [
    "bad.yaml:1:1: holds no documents; an empty file is refused rather than read as 'delete everything' (remove the file to remove its specs)",
  ],
  "second document invalid": ['bad.yaml:14:13: spec.replicas: expected a whole number, got the string "many"'],
  "alias bomb": ["bad.yaml:1:1: expands YAML aliases more than 100 times; refused as a possible alias bomb"],
  "an alias without its anchor": [
    "bad.yaml:7:8: invalid YAML: unknown alias *nope: no anchor &nope before it in this document",
  ],
  "an anchor of an earlier document": [
    'bad.yaml:1:1: missing required field "apiVersion"',
    'bad.yaml:1:1: x: unknown field "x"; the valid fields are apiVersion, kind, metadata and spec',
    "bad.yaml:9:8: invalid YAML: unknown alias *base: no anchor &base before it in this document",
  ],
  "deep flow nesting": ["bad.yaml:7:44: nests deeper than 32 levels; a spec never needs that (a YAML bomb?)"],
  "too many documents": ["bad.yaml:1001:1: holds more than 500 documents; split it into several files"],
  "too many documents, first without a marker": [
    "bad.yaml:1000:1: holds more than 500 documents; split it into several files",
  ],
  "a custom tag": ["bad.yaml:7:12: invalid YAML: Unresolved tag: !shell"],
  "binary garbage": ["bad.yaml:1:8: holds a NUL byte: this is binary data, not a YAML spec file"],
  "invalid UTF-8": ["bad.yaml:8:15: is not valid UTF-8 text"],
  "a 10 MB file": ["bad.yaml:1:1: is 10 MiB, above the 1 MiB limit for a spec file"],
  "a file just above 1 MiB": ["bad.yaml:1:1: is 1098576 bytes, above the 1 MiB limit for a spec file"],
  "network option misspelt": ['bad.yaml:6:3: spec.internl: unknown field "internl"; did you mean "internal"?'],
  "network driver macvlan": [
    "bad.yaml:6:11: spec.driver: the macvlan driver puts containers on the host's network or its interfaces, and is refused (use bridge, the default) [policy baseline: network-driver]",
  ],
  "network subnet not CIDR": [
    'bad.yaml:6:11: spec.subnet: "10.0.0.0" is not an IPv4 subnet in CIDR form (e.g. 172.28.0.0/16)',
  ],
  "volume binding /etc": [
    'bad.yaml:6:43: spec.options.device: this volume binds a host path: "/etc" is or holds /etc, which is never mounted (it would give the container the host) [policy baseline: volume-host-path]',
  ],
  "volume binding a folder not allowed": [
    'bad.yaml:6:43: spec.options.device: this volume binds a host path: "/srv/data": bind mounts are refused unless berth allows their host folder (--allow-bind PREFIX); use a volume or tmpfs mount instead [policy baseline: volume-host-path]',
  ],
  "volume with a reserved label": [
    'bad.yaml:5:13: metadata.labels["berth.spec"]: label keys under "berth." are reserved for berth; use your own prefix (e.g. com.example.spec)',
  ],
  "volume name with a slash": [
    "bad.yaml:4:9: metadata.name: \"a/b\" is not a network or volume name: letters, digits, '_', '.', '-' (e.g. tidepool, agent-cache)",
  ],
  "kind misspelt": [
    'bad.yaml:2:7: kind: "Netwrok" is not one of Container, Network or Volume; did you mean "Network"?',
  ],
};

function errorLines(input: string | Uint8Array): string[] {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  return parseSpecBytes(bytes, "bad.yaml").issues.map(formatIssue);
}

describe("golden error lines for invalid inputs", () => {
  it("covers at least 40 cases, each with an expectation", () => {
    expect(Object.keys(INVALID_CASES).length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(INVALID_CASES).sort());
  });

  for (const [name, input] of Object.entries(INVALID_CASES)) {
    it(name, () => {
      const result = parseSpecBytes(typeof input === "string" ? new TextEncoder().encode(input) : input, "bad.yaml");
      expect(result.documents).toEqual([]);
      expect(errorLines(input)).toEqual(EXPECTED[name]);
    });
  }
});
