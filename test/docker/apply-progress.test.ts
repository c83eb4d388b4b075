/**
 * `berth apply` shows an image pull as it happens (docs/images.md, Progress): an image of three
 * layers of random data (12 MB each, made here from the test image) is pushed to a loopback
 * registry with auth and removed locally before each case, so every apply really pulls it.
 * (a) On a terminal — util-linux's `script` gives berth a pseudo-terminal — a live line with a
 * bar and bytes, redrawn in place, ends as one `pulled … in 1.2s` line. (b) Piped, one line per
 * step and no escape codes. Neither shows the registry password, in clear or base64.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  berth,
  BIN,
  containersOf,
  docker,
  e2eSpec,
  removeImage,
  specDir,
  TEST_IMAGE,
  testIds,
} from "../support/e2e.js";
import * as reg from "../support/registry.js";

const id = testIds();
const user: reg.RegistryUser = { username: "berth", password: `pw-${randomUUID()}` };
const secrets = [user.password, Buffer.from(`${user.username}:${user.password}`).toString("base64")];
let registry: reg.LocalRegistry | undefined;
let ref = "";
let dockerConfig = "";
/** Images this file made, removed after it (the last made first: each is the next one's parent). */
const made: string[] = [];
const LAYERS = 3;

/** The test image with LAYERS layers of 12 MB of random data (incompressible: the pull has bytes to show). */
async function layeredImage(): Promise<string> {
  let image = TEST_IMAGE;
  for (let i = 1; i <= LAYERS; i++) {
    const c = await docker.createContainer({
      Image: image,
      Cmd: ["sh", "-c", `head -c 12000000 /dev/urandom > /layer-${i}`],
    });
    try {
      await c.start();
      await c.wait();
      image = (
        (await c.commit({ changes: `LABEL org.berth-test.image=progress-${process.pid}-${i}` })) as { Id: string }
      ).Id;
      made.push(image);
    } finally {
      await c.remove({ force: true });
    }
  }
  return image;
}

/** The test image's layers, which the pulled image shares ("Already exists"). */
async function baseLayers(): Promise<number> {
  return (await docker.getImage(TEST_IMAGE).inspect()).RootFS.Layers?.length ?? 0;
}

/** The registry, the image pushed to it, and a Docker config with the credentials, made once. */
async function theImage(): Promise<void> {
  if (registry) return;
  registry = await reg.requireRegistry(user);
  ref = `${registry.host}/berth-test/layers:progress-${process.pid}`;
  await reg.pushAs(docker, await layeredImage(), ref, user);
  dockerConfig = reg.dockerConfigFor(registry.host, user);
}

/** Only the registry has the image: each case pulls it. */
beforeEach(async () => {
  await theImage();
  await removeImage(ref);
  for (const image of made) await removeImage(image);
  expect(await reg.localImageId(docker, ref)).toBeNull();
});

afterAll(async () => {
  for (const image of [ref, ...made.reverse()]) if (image !== "") await removeImage(image);
  await registry?.stop();
});

function pulledSpec(name: string): string {
  return e2eSpec(name).replace(`image: ${TEST_IMAGE}`, `image: ${ref}`);
}

/** Runs `node bin/berth.js ARGS` on a pseudo-terminal (`script`); its whole output, with \n line ends. */
function onTerminal(args: readonly string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  // A terminal of 200 columns: the live line (long spec and image names) fits.
  const command = `stty cols 200 rows 50; ${quoted}`;
  return new Promise((resolve) => {
    execFile(
      "script",
      ["-qfec", command, "/dev/null"],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, output: stdout.replace(/\r\n/g, "\n") });
      },
    );
  });
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("berth apply shows the pull", () => {
  it("on a terminal: a live line with a bar and bytes, redrawn in place, then one pulled line", async () => {
    const c = id("progress-tty");
    const name = `${c}-app`;
    const result = await onTerminal(["apply", "--id", c, "--specs", specDir({ "app.yaml": pulledSpec(name) })], {
      DOCKER_CONFIG: dockerConfig,
      BERTH_LOG_FORMAT: "auto",
      TERM: "xterm",
      NO_COLOR: "1",
    });
    expect(result.code, result.output).toBe(0);
    const out = result.output;
    const image = escape(ref);
    // The live line: spec, image, a bar of 20, bytes done of bytes in all, layers.
    expect(out).toMatch(
      new RegExp(
        `${escape(name)}  pulling ${image}  \\[[=> ]{20}\\] [\\d.]+ (bytes|KiB|MiB) / [\\d.]+ MiB  \\d/\\d layers`,
      ),
    );
    // Redrawn in place: the cursor goes back up over the block and erases it.
    expect(out).toContain("\x1b[1F\x1b[J");
    // Ends as one line: the layers pulled (three new, the test image's already here) and their size.
    const layers = LAYERS + (await baseLayers());
    expect(out).toMatch(
      new RegExp(
        `(?:^|\x1b\\[J)${escape(name)}  pulled ${image} in \\d+\\.\\ds \\([\\d.]+ MiB, ${layers} layers\\)$`,
        "m",
      ),
    );
    expect(out).toMatch(new RegExp(`^✓ create  ${escape(name)}: not found \\(`, "m"));
    for (const secret of secrets) expect(out).not.toContain(secret);
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([[name, "running"]]);
  });

  it("piped: one line per step, Downloading throttled, no bar or escape codes; stdout as before", async () => {
    const c = id("progress-plain");
    const name = `${c}-app`;
    const started = performance.now();
    const result = await berth(["apply", "--id", c, "--specs", specDir({ "app.yaml": pulledSpec(name) })], {
      DOCKER_CONFIG: dockerConfig,
      BERTH_LOG_FORMAT: "auto",
    });
    const elapsedMs = performance.now() - started;
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.trimEnd().split("\n");
    const prefix = `${name}  pull ${ref}: `;
    expect(lines[0]).toBe(`${name}  pulling ${ref}`);
    // Every line between the first and the last is a step of this pull.
    const steps = lines.slice(1, -1);
    expect(steps.filter((l) => !l.startsWith(prefix))).toEqual([]);
    const layerLines = steps.filter((l) => /: layer [0-9a-f]{12}: /.test(l));
    const layers = new Set(layerLines.map((l) => /: layer ([0-9a-f]{12}): /.exec(l)?.[1]));
    expect(layers.size).toBe(LAYERS + (await baseLayers()));
    expect(layerLines.filter((l) => l.endsWith(": Pull complete"))).toHaveLength(LAYERS);
    expect(layerLines.filter((l) => l.endsWith(": Already exists"))).toHaveLength(await baseLayers());
    // Downloading: a line when a layer starts, then one at most every 5 s.
    for (const layer of layers) {
      const downloading = layerLines.filter((l) => l.includes(`: layer ${layer ?? ""}: Downloading`));
      expect(downloading.length).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / 5000));
    }
    expect(steps).toContain(`${prefix}Status: Downloaded newer image for ${ref}`);
    expect(lines.at(-1)).toMatch(new RegExp(`^${escape(name)}  pulled ${escape(ref)} in \\d+\\.\\ds \\(`));
    expect(result.stderr).not.toContain("\x1b");
    expect(result.stderr).not.toMatch(/\[[=> ]{20}\]/);
    // stdout is apply's own, as without progress.
    expect(result.stdout).toMatch(new RegExp(`^ok create  ${escape(name)}: not found \\(`, "m"));
    expect(result.stdout).not.toContain("pulling");
    for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret);
  });
});
