/**
 * A berth HTTP server for unit tests: the real fastify app and route handlers, real spec files in
 * a temporary runtime folder, and an in-memory engine view (the containers the label filter would
 * list) with a recording ContainerIO. Also a raw TCP client for what fetch cannot do: leave out
 * the Host header, trickle a body, or watch when the server closes the connection.
 */
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Readiness } from "../../src/loop/controller.js";
import type { LeadershipStatus } from "../../src/loop/leadership.js";
import { labelKeys } from "../../src/core/labels.js";
import type { ObservedContainer } from "../../src/core/observed.js";
import { ownership } from "../../src/core/ownership.js";
import type { Profile } from "../../src/core/policy/policy.js";
import type { SpecRecord } from "../../src/core/record.js";
import type { ContainerDetails, ContainerIO, ExecRequest } from "../../src/docker/port.js";
import { hostPolicyContext } from "../../src/host/host-paths.js";
import { buildServer, type HttpLimits, type StatusSnapshot } from "../../src/http/server.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../src/manifest/parse.js";
import { ManagedContainers } from "../../src/ops/containers.js";
import { EventLog } from "../../src/ops/event-log.js";
import { rolloutVerdict } from "../../src/ops/rollout-verdict.js";
import { RuntimeSpecs } from "../../src/ops/runtime-specs.js";
import { silentLogger } from "../../src/util/log.js";
import type { Logger } from "pino";
import { tempDir } from "./tmp.js";

export const TOKEN = "0123456789abcdef0123456789abcdef";
export const BEARER = { authorization: `Bearer ${TOKEN}` };

export interface TestServerOptions {
  readonly token?: string | null;
  readonly containers?: ObservedContainer[];
  readonly compat?: boolean;
  /** --compat artie (image berth-test/busybox:latest, loopback ports, 200 ms waits). */
  readonly artie?: boolean;
  readonly loopback?: boolean;
  readonly allowHosts?: string[];
  readonly allowOrigins?: string[];
  readonly policyProfile?: Profile;
  readonly limits?: Partial<HttpLimits>;
  /** The specs loaded now, given the runtime folder; null: not loaded yet. Default: none. */
  readonly loaded?: (runtimeDir: string) => SpecRecord[] | null;
  readonly status?: StatusSnapshot | null;
  /** How long the fake exec takes. */
  readonly execMs?: number;
  /** How long the fake engine takes to open a log stream. */
  readonly logsOpenMs?: number;
  /** The engine's list call fails with this (a 500 from any route that looks a container up). */
  readonly listFails?: Error;
  /** Where the server logs; default nowhere. */
  readonly log?: Logger;
  /** The event log GET /v1/events serves; default an empty one of 10. */
  readonly events?: EventLog;
  /** What an inspect of a container tells now (GET /v1/specs/{name}/rollout?stableFor); default: gone. */
  readonly inspect?: (id: string) => ContainerDetails | null;
  /** The server's clock (ms since the epoch); default Date.now. */
  readonly now?: () => number;
  /** Under --ha: what the election says now; default none (always the leader). */
  readonly leadership?: () => LeadershipStatus;
}

/** A container of this controller's (label "default"), running. */
export function managed(name: string, spec: string, labels: Record<string, string> = {}): ObservedContainer {
  return {
    id: `${name.replace(/[^a-f0-9]/g, "a").padEnd(12, "b")}${"c".repeat(52)}`,
    name,
    labels: { "berth.controller": "default", "berth.spec": spec, "berth.replica": "0", "berth.hash": "h", ...labels },
    state: "running",
    exitCode: null,
    health: null,
    imageId: "sha256:1",
    image: "busybox",
    createdAt: 0,
    mounts: [],
  };
}

/** An agent, as docker-spawner's /spawn makes it. */
export function agent(name: string): ObservedContainer {
  return managed(name, name, { "com.tidepool.role": "agent" });
}

/** The record of a spec loaded from `file` (the desired state's unit), from its text. */
export function loadedRecord(file: string, text: string): SpecRecord {
  const parsed = parseSpecText(text, file, DEFAULT_PARSE_OPTIONS);
  const doc = parsed.documents[0];
  if (!doc) throw new Error(`not a valid spec: ${JSON.stringify(parsed.issues)}`);
  return {
    name: doc.spec.name,
    spec: doc.spec,
    file,
    source: file.split("/").pop() ?? file,
    hash: "h",
    invalid: [],
    error: null,
  };
}

export function testServer(options: TestServerOptions = {}) {
  // The runtime folder, inside a temporary folder of its own (a file "beside" it stays in there).
  const dir = path.join(tempDir(), "rt");
  mkdirSync(dir);
  const log = options.log ?? silentLogger();
  const execs: { id: string; request: ExecRequest }[] = [];
  const logStreams: { opened: number; closed: number } = { opened: 0, closed: 0 };
  let changes = 0;
  const io: ContainerIO = {
    exec: async (id, request) => {
      execs.push({ id, request });
      if (options.execMs) await new Promise((resolve) => setTimeout(resolve, options.execMs));
      return {
        exitCode: 0,
        stdout: "ran",
        stderr: "",
        truncated: false,
        timedOut: false,
        killed: false,
        durationMs: 1,
      };
    },
    logs: async () => {
      if (options.logsOpenMs) await new Promise((resolve) => setTimeout(resolve, options.logsOpenMs));
      logStreams.opened++;
      let closed = false;
      return {
        close: () => {
          if (closed) return;
          closed = true;
          logStreams.closed++;
        },
      };
    },
  };
  const readiness: Readiness = { ready: true, reason: null };
  const loaded = (): SpecRecord[] | null => (options.loaded ? options.loaded(dir) : []);
  const app = buildServer({
    log,
    controllerId: "default",
    readiness: () => readiness,
    apiToken: options.token === undefined ? TOKEN : options.token,
    loopback: options.loopback ?? true,
    status: () => options.status ?? null,
    events: options.events ?? new EventLog(10),
    metrics: null,
    ...(options.leadership ? { leadership: options.leadership } : {}),
    specs: new RuntimeSpecs({
      dir,
      parse: {
        ...DEFAULT_PARSE_OPTIONS,
        policy: { ...DEFAULT_PARSE_OPTIONS.policy, profile: options.policyProfile ?? "baseline" },
        policyContext: hostPolicyContext,
      },
      specFile: (name) => loaded()?.find((r) => r.name === name)?.file ?? null,
      loaded,
      changed: () => {
        changes++;
      },
      removing: () => () => undefined,
      log,
    }),
    containers: new ManagedContainers(
      {
        listContainers: () =>
          options.listFails ? Promise.reject(options.listFails) : Promise.resolve(options.containers ?? []),
      },
      io,
      ownership(labelKeys(), "default"),
      log,
    ),
    compat: options.compat
      ? { image: "agent:latest", network: "auto", user: { uid: 1000, gid: 1000 }, waitMs: 200 }
      : null,
    artie: options.artie ? { image: "berth-test/busybox:latest", hostIP: null, network: "auto", waitMs: 200 } : null,
    rollout: (spec, stableForMs) =>
      rolloutVerdict(
        {
          docker: { inspectContainer: (id) => Promise.resolve(options.inspect?.(id) ?? null) },
          now: options.now ?? Date.now,
        },
        spec,
        stableForMs,
      ),
    now: () => Date.now(),
    ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
    ...(options.allowOrigins ? { allowOrigins: options.allowOrigins } : {}),
    ...(options.policyProfile ? { policyProfile: options.policyProfile } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return { app, dir, execs, logStreams, changes: () => changes };
}

export interface RawExchange {
  /** Everything the server sent. */
  readonly response: string;
  /** Milliseconds from connecting until the server closed the connection (null: it did not, by the deadline). */
  readonly closedAfterMs: number | null;
}

/**
 * Sends `head` (and then `trickle` bytes every `everyMs`) on a fresh TCP connection to 127.0.0.1
 * and reports what came back and when the server closed the connection; gives up after `deadlineMs`.
 */
export function rawExchange(
  port: number,
  head: string,
  options: { trickle?: string; everyMs?: number; deadlineMs?: number; halfOpen?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    // halfOpen: keep sending after the server has ended its side, as a stubborn client would.
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: options.halfOpen ?? false });
    let response = "";
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedAfterMs: number | null): void => {
      clearInterval(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ response, closedAfterMs });
    };
    const deadline = setTimeout(() => {
      finish(null);
    }, options.deadlineMs ?? 5_000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (response += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      finish(Date.now() - started);
    });
    socket.write(head);
    if (options.trickle !== undefined) {
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(options.trickle ?? "");
      }, options.everyMs ?? 100);
    }
  });
}
