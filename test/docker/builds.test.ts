/**
 * Builds from the repository (docs/images.md, Builds), end to end through the built CLI: a spec
 * with `build:` converges to a container of the image built from its folder, tagged
 * berth.local/<spec>:<context hash>; a change inside the context rebuilds and replaces; a change
 * outside it, or to a file its .dockerignore lists, changes nothing; a broken Dockerfile keeps the
 * running container and says why with the build's last lines (apply's output, logs --build); a context outside the spec folder is refused at validate. Every image builds FROM the
 * local test image: nothing is pulled.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { DockerAdapter } from "../../src/docker/adapter.js";
import { berth, containersOf, docker, removeImage, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { pollValue } from "../support/poll.js";
import { specText } from "../support/specs.js";

const id = testIds();
/** Controller ids whose images are removed after the file. */
const ids: string[] = [];

afterAll(async () => {
  for (const controller of ids) {
    const images = await docker.listImages({ filters: { label: [`berth.built_by=${controller}`] } });
    for (const image of images) await removeImage(image.Id);
  }
});

const SPEC = specText("web", {
  image: null,
  extra: [
    "build:",
    "  context: ./app",
    "  args:",
    "    GREETING: hello",
    'command: ["sh", "-c", "cat /app/msg.txt; echo ${GREETING:-}; exec sleep 3600"]',
    "init: true",
    "stopTimeout: 1s",
  ],
});

const DOCKERFILE = `FROM ${TEST_IMAGE}
ARG GREETING
ENV GREETING=$GREETING
COPY . /app
`;

/**
 * `berth logs` of the one container, once it reads `expected`: apply returns when the container
 * runs, and its output reaches the engine's log a moment later.
 */
async function logsOf(controller: string, expected: string): Promise<string> {
  const read = () => berth(["logs", "--id", controller, "web"]);
  return (await pollValue(read, (r) => r.stdout === expected, 15_000, 100)).stdout;
}

/** The one container of a controller id, with the image it was created from. */
async function theContainer(controller: string): Promise<{ id: string; state: string; image: string }> {
  const [c, ...more] = await containersOf(controller);
  expect(more).toEqual([]);
  if (!c) throw new Error(`no container of ${controller}`);
  const details = await docker.getContainer(c.id).inspect();
  return { id: c.id, state: c.state, image: details.Config.Image };
}

/** `berth apply` of the folder; the output is shown when it fails. */
async function apply(controller: string, dir: string, expectedCode = 0): Promise<string> {
  const r = await berth(["apply", "--id", controller, "--timeout", "60s", "--specs", dir]);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(expectedCode);
  return r.stdout + r.stderr;
}

describe("build: from the spec folder", () => {
  it("converges, rebuilds on a change in the context only, and keeps the container through a broken build", async () => {
    const controller = id("builds");
    ids.push(controller);
    const dir = specDir({
      "web.yaml": SPEC,
      "README.md": "about the app\n",
      "app/Dockerfile": DOCKERFILE,
      "app/msg.txt": "one\n",
      "app/.dockerignore": "*.log\n",
      "app/debug.log": "noise\n",
    });
    const write = (file: string, text: string): void => {
      writeFileSync(path.join(dir, file), text);
    };

    // Converges: the container runs the image built from ./app, tagged by the context's hash.
    const built = await apply(controller, dir);
    expect(built).toMatch(/create +web: not found/);
    const first = await theContainer(controller);
    expect(first.state).toBe("running");
    expect(first.image).toMatch(/^berth\.local\/web:[0-9a-f]{12}$/);
    const image = await docker.getImage(first.image).inspect();
    expect(image.Config.Labels).toMatchObject({ "berth.built_by": controller, "berth.built_for": "web" });
    // Not the ownership labels: a container made from the image inherits them.
    expect(image.Config.Labels?.["berth.controller"]).toBeUndefined();
    expect(await logsOf(controller, "one\nhello\n")).toBe("one\nhello\n");
    // The build's output is kept: berth logs --build.
    const buildLog = await berth(["logs", "--build", "--id", controller, "web"]);
    expect(buildLog.code, buildLog.stderr).toBe(0);
    expect(buildLog.stdout).toMatch(/COPY \. \/app/);
    expect(buildLog.stdout).toContain(`# ${first.image} built`);

    // A file outside the context, and one the context's .dockerignore lists: nothing to do.
    write("README.md", "about the app, edited\n");
    write("app/debug.log", "more noise\n");
    expect(await apply(controller, dir)).not.toMatch(/replace|create/);
    expect(await theContainer(controller)).toEqual(first);

    // A file in the context: a new image, and the container replaced with it.
    write("app/msg.txt", "two\n");
    expect(await apply(controller, dir)).toMatch(/replace +web.*hash changed/);
    const second = await theContainer(controller);
    expect(second.id).not.toBe(first.id);
    expect(second.image).toMatch(/^berth\.local\/web:[0-9a-f]{12}$/);
    expect(second.image).not.toBe(first.image);
    expect(await logsOf(controller, "two\nhello\n")).toBe("two\nhello\n");

    // A broken Dockerfile: the build fails, the running container stays, and the reason has the
    // build's last lines, in apply's output and in logs --build.
    write("app/Dockerfile", `FROM ${TEST_IMAGE}\nRUN echo broken-step-output && exit 3\n`);
    const failed = await apply(controller, dir, 1);
    expect(failed).toMatch(/BERTH_BUILD_FAILED|building image berth\.local\/web:[0-9a-f]{12} for web failed/);
    expect(failed).toContain("broken-step-output");
    expect(failed).toMatch(/the last good containers keep running/);
    // The status apply ends with: Failed, none of the new version ready, the old container available.
    expect(failed).toMatch(/web +Failed +0\/1 \(1 available\) +web\(running\)/);
    const kept = await theContainer(controller);
    expect(kept).toEqual({ ...second, state: "running" });
    const brokenLog = await berth(["logs", "--build", "--id", controller, "web"]);
    expect(brokenLog.stdout).toContain("broken-step-output");
    expect(brokenLog.stdout).toMatch(/failed: .*non-zero code: 3/);
  });

  it("refuses a context outside the spec folder at validate, with the file, line and field", async () => {
    const dir = specDir({
      "specs/web.yaml": SPEC.replace("context: ./app", "context: ../app"),
      "app/Dockerfile": DOCKERFILE,
    });
    const r = await berth(["validate", path.join(dir, "specs")]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(
      /web\.yaml:7:14: spec\.build\.context: "\.\.\/app" leads outside the spec folder; a build context must be a folder inside it/,
    );
  });

  it("a context stream that fails mid-way ends the build at once, not at the build's deadline", async () => {
    const adapter = new DockerAdapter();
    const context = new PassThrough();
    // Half a tar header, then the failure host/build-context.ts raises when the files changed.
    context.write(Buffer.alloc(256));
    const built = adapter.buildImage(context, {
      tag: `berth.local/never-built:${process.pid}`,
      dockerfile: "Dockerfile",
      args: {},
      target: null,
      labels: {},
      registryConfig: {},
    });
    setImmediate(() => context.destroy(new Error("the build context of web changed while it was sent")));
    // The test's own timeout (far below the 10 min build deadline) is what a hang would hit.
    await expect(built).rejects.toThrow();
  }, 60_000);
});
