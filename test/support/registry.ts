/**
 * A private image registry for tests: Debian's docker-registry (distribution 2.x) on a free port
 * of 127.0.0.1 with a temporary storage folder, as a child process of the test. Docker treats
 * registries on 127.0.0.0/8 as insecure, so the engine pushes and pulls over plain HTTP; nothing
 * leaves loopback. scripts/ensure-docker.sh installs the package.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, writeFileSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { freePort } from "./free-port.js";
import { pollUntil } from "./poll.js";
import { tempDir } from "./tmp.js";

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, the registry part of an image reference. */
  readonly host: string;
  /** SIGTERM, then SIGKILL if it lingers; waits for the exit. */
  stop(): Promise<void>;
}

/** The docker-registry binary on PATH, or null. */
export function registryBinary(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, "docker-registry");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Basic auth for the registry: one user, whose bcrypt line `htpasswd -B` writes. */
export interface RegistryUser {
  readonly username: string;
  readonly password: string;
}

/** An htpasswd file with this user's bcrypt line (apache2-utils' htpasswd, which ensure-docker.sh installs). */
function htpasswdFile(dir: string, user: RegistryUser): string {
  const file = path.join(dir, "htpasswd");
  execFileSync("htpasswd", ["-Bbc", file, user.username, user.password], { stdio: "ignore" });
  return file;
}

/**
 * Where a registry listens when not on the host's loopback: inside a network namespace of the
 * test's own (test/support/netns.ts), on one of its addresses, port 5000 (the namespace has no
 * other listener). Engines reach it there only when told it is insecure (--insecure-registry).
 */
export interface RegistryPlace {
  readonly namespace: { readonly enter: readonly string[] };
  readonly address: string;
}

/**
 * Starts a registry (its storage lives until the test file ends); with `user`, every request needs
 * that user's basic auth (the registry's htpasswd auth). A port taken between choosing and binding
 * it makes the registry exit at once; then another port is tried. With `place`, it runs in that
 * namespace, and is ready when it says it listens (the test's own namespace cannot reach it).
 */
export async function startRegistry(
  binary: string,
  user?: RegistryUser,
  place?: RegistryPlace,
): Promise<LocalRegistry> {
  const storage = tempDir("berth-registry-", "file");
  let output = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = place ? 5000 : await freePort();
    const address = place?.address ?? "127.0.0.1";
    const config = path.join(storage, `config-${port}.yml`);
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log:",
        `  level: ${place ? "info" : "warn"}`,
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${path.join(storage, "data")}`,
        "http:",
        `  addr: ${address}:${port}`,
        ...(user ? ["auth:", "  htpasswd:", "    realm: berth-test", `    path: ${htpasswdFile(storage, user)}`] : []),
        "",
      ].join("\n"),
    );
    const [program, ...args] = place ? ["nsenter", ...place.namespace.enter, binary] : [binary];
    const child = spawn(program, [...args, "serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const up = await pollUntil(async () => {
      if (child.exitCode !== null) return true;
      if (place) return output.includes(`listening on ${address}:${port}`);
      const res = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => null);
      // With auth, /v2/ answers 401 to a request without credentials: it is up.
      return res?.status === (user ? 401 : 200);
    }, 15_000);
    if (up && child.exitCode === null) {
      return {
        host: `${address}:${port}`,
        stop: async () => {
          child.kill("SIGTERM");
          const gone = await pollUntil(() => child.exitCode !== null || child.signalCode !== null, 5000);
          if (!gone) child.kill("SIGKILL");
          await exited(child);
        },
      };
    }
    child.kill("SIGKILL");
    await exited(child);
  }
  throw new Error(`docker-registry did not start on ${place?.address ?? "127.0.0.1"} (3 ports tried):\n${output}`);
}

/** A registry started as startRegistry does; a missing docker-registry fails the test with what to run. */
export async function requireRegistry(user?: RegistryUser): Promise<LocalRegistry> {
  const binary = registryBinary();
  if (binary === null)
    throw new Error("docker-registry is not installed: run `bash scripts/ensure-docker.sh` (it apt-get installs it)");
  return startRegistry(binary, user);
}

/** A folder with a Docker config.json whose auths entry for `host` holds `user`'s credentials (DOCKER_CONFIG). */
export function dockerConfigFor(host: string, user: RegistryUser): string {
  const dir = tempDir("berth-docker-config-", "file");
  const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths: { [host]: { auth } } }));
  return dir;
}

/** Docker's push/pull progress stream, to its end; an error line fails it. */
function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[] | undefined) => {
      const failed = output?.find((o) => o.error !== undefined);
      if (err) reject(err);
      else if (failed) reject(new Error(failed.error));
      else resolve();
    });
  });
}

/** Tags the image `imageId` as `ref` (REPO:TAG) and pushes it through the Engine API, as `user` when given. */
export async function pushAs(docker: Docker, imageId: string, ref: string, user?: RegistryUser): Promise<void> {
  const colon = ref.lastIndexOf(":");
  await docker.getImage(imageId).tag({ repo: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  // The engine wants an X-Registry-Auth header even for a registry without auth.
  const host = ref.slice(0, ref.indexOf("/"));
  await followProgress(docker, await docker.getImage(ref).push({ authconfig: { serveraddress: host, ...user } }));
}

/**
 * The image `base` with a label naming it (`org.berth-test.image=NAME`): an image ID of this run's
 * own; `env`: environment variables the image sets (`ENV`).
 */
export async function labelledImage(
  docker: Docker,
  base: string,
  name: string,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  const builder = await docker.createContainer({ Image: base, Cmd: ["true"] });
  try {
    const changes = [`LABEL org.berth-test.image=${name}`, ...Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`)];
    const image = (await builder.commit({ changes: changes.join("\n") })) as { Id: string };
    return image.Id;
  } finally {
    await builder.remove({ force: true });
  }
}

/** The image ID a reference names on this host, or null. */
export async function localImageId(docker: Docker, ref: string): Promise<string | null> {
  const found = await docker.listImages({ filters: JSON.stringify({ reference: [ref] }) });
  return found[0]?.Id ?? null;
}
