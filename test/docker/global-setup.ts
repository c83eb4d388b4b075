/**
 * Before any real-engine test: a Docker engine must answer and the test image must exist. A
 * missing engine is a failure (never a skip), with the command that fixes it.
 */
import { execFileSync } from "node:child_process";
import Docker from "dockerode";

export const TEST_IMAGE = "berth-test/busybox:latest";

export default async function setup(): Promise<void> {
  const docker = new Docker();
  let version: { Version?: string; ApiVersion?: string };
  try {
    version = await docker.version();
  } catch (err) {
    throw new Error(
      `No Docker engine answers (${process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"}): ${(err as Error).message}. ` +
        "Run `bash scripts/ensure-docker.sh` first; it installs and starts one where it can.",
    );
  }
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch {
    throw new Error(`The test image ${TEST_IMAGE} is missing. Run \`bash scripts/ensure-docker.sh\` to build it.`);
  }
  console.log(`docker tests: real engine ${version.Version ?? "?"} (API ${version.ApiVersion ?? "?"})`);
  // The end-to-end tests run the built CLI (dist/bundle/ through bin/berth.js), as a user does.
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
}
