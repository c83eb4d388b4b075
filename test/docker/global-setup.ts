/**
 * Before any real-engine test: a Docker engine must answer and the test image must exist, else
 * every file of the docker project fails with one line that says why and what fixes it
 * (engine-required.setup.ts) — a failure, never a skip, CI or not. It does not throw here: a
 * global setup that throws ends the whole run, and the unit project should still run and report.
 */
import { execFileSync } from "node:child_process";
import Docker from "dockerode";
import type { TestProject } from "vitest/node";

export const TEST_IMAGE = "berth-test/busybox:latest";
/** How long a silent engine (a socket that accepts and never answers) is waited for. */
const ANSWER_TIMEOUT_MS = 15_000;

declare module "vitest" {
  interface ProvidedContext {
    /** Why the docker project cannot run (one line), or "" when it can. */
    dockerUnavailable: string;
  }
}

/** Why no test can use the engine (one line), or null when it answers and has the test image. */
export async function engineProblem(docker: Docker, timeoutMs: number): Promise<string | null> {
  const { socketPath, host, port } = docker.modem as { socketPath?: string; host?: string; port?: number | string };
  const where = typeof socketPath === "string" ? socketPath : `${host ?? "?"}:${port ?? "?"}`;
  const started = Date.now();
  try {
    await docker.version();
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (Date.now() - started >= timeoutMs)
      return `Docker engine at ${where} did not answer within ${timeoutMs / 1000} s: restart dockerd (bash scripts/ensure-docker.sh)`;
    if (code === "EACCES")
      return `Docker engine at ${where} refused this user (EACCES): join the socket's group (usermod -aG docker "$USER", then log in again) or run as root`;
    return `Docker engine not reachable at ${where} (${code ?? message}): start dockerd (bash scripts/ensure-docker.sh)`;
  }
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch {
    return `test image ${TEST_IMAGE} missing on the engine at ${where}: build it (bash scripts/ensure-docker.sh)`;
  }
  return null;
}

export default async function setup(project: TestProject): Promise<void> {
  const docker = new Docker({ timeout: ANSWER_TIMEOUT_MS });
  const problem = await engineProblem(docker, ANSWER_TIMEOUT_MS);
  project.provide("dockerUnavailable", problem ?? "");
  if (problem !== null) return;
  const version = await docker.version();
  console.log(`docker tests: real engine ${version.Version ?? "?"} (API ${version.ApiVersion ?? "?"})`);
  // The end-to-end tests run the built CLI (dist/bundle/ through bin/berth.js), as a user does.
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
}
