/**
 * Image pulls that succeed, from a real registry: Debian's docker-registry on a free loopback
 * port, started here. Two images made for this run (v1, v2: the test image with a label each, so
 * their IDs are this run's own) are pushed under one reference through the Engine API and removed
 * locally; `berth apply` then pulls what each imagePullPolicy says, and every container runs from
 * the image ID the registry served.
 */
import { afterAll, describe, expect, it } from "vitest";
import { berth, containersOf, docker, e2eSpec, removeImage, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import {
  labelledImage,
  type LocalRegistry,
  localImageId,
  pushAs,
  registryBinary,
  startRegistry,
} from "../support/registry.js";

const id = testIds();
let registry: LocalRegistry | undefined;
/** Every image this file made, removed after it. */
const made: string[] = [];
let ref = "";

/** A new image: the test image with a label naming it, so its ID is this run's own. */
async function buildImage(name: string): Promise<string> {
  const image = await labelledImage(docker, TEST_IMAGE, name);
  made.push(image);
  return image;
}

async function imageExists(imageId: string): Promise<boolean> {
  return docker
    .getImage(imageId)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/** What a container of a controller was created from: [reference, image ID]. */
async function runsFrom(controller: string, name: string): Promise<[string, string]> {
  const container = (await containersOf(controller)).find((c) => c.name === name);
  if (!container) throw new Error(`no container ${name} of ${controller}`);
  const info = await docker.getContainer(container.id).inspect();
  return [info.Config.Image, info.Image];
}

function pulledSpec(name: string, policy: "IfNotPresent" | "Always"): string {
  return e2eSpec(name).replace(`image: ${TEST_IMAGE}`, `image: ${ref}\n  imagePullPolicy: ${policy}`);
}

/**
 * Starts the registry at the first test that needs it, and sets `ref`. A missing docker-registry fails each
 * test with what to run, never skips it: CI (CI=true) must have it.
 */
async function theRegistry(): Promise<void> {
  if (registry) return;
  const binary = registryBinary();
  if (binary === null) {
    throw new Error(
      `docker-registry is not installed${process.env.CI === "true" ? " (CI=true)" : ""}: the image-pull tests ` +
        "run Debian's registry on loopback. Run `bash scripts/ensure-docker.sh` (it apt-get installs docker-registry).",
    );
  }
  registry = await startRegistry(binary);
  ref = `${registry.host}/berth-test/pulled:e2e-${process.pid}`;
}

afterAll(async () => {
  // The containers are gone (testIds removes them after each test); now the tag and the images.
  for (const image of [ref, ...made.reverse()]) if (image !== "") await removeImage(image);
  await registry?.stop();
});

describe("image pulls from a registry", () => {
  it("IfNotPresent pulls an image missing on this host, and the container runs from the pulled image", async () => {
    await theRegistry();
    const v1 = await buildImage(`v1-${process.pid}`);
    await pushAs(docker, v1, ref);
    // Only the registry has it now: the reference was the image's one tag.
    await docker.getImage(ref).remove();
    expect(await imageExists(v1)).toBe(false);
    expect(await localImageId(docker, ref)).toBeNull();

    const c = id("pull-missing");
    const name = `${c}-app`;
    const result = await berth([
      "apply",
      "--id",
      c,
      "--specs",
      specDir({ "app.yaml": pulledSpec(name, "IfNotPresent") }),
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(new RegExp(`^ok create  ${name}: not found \\(`, "m"));
    expect(result.code).toBe(0);
    expect(await runsFrom(c, name)).toEqual([ref, v1]);
    expect(await localImageId(docker, ref)).toBe(v1);
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([[name, "running"]]);
  });

  it("IfNotPresent keeps the image on this host; Always pulls the registry's newer one", async () => {
    await theRegistry();
    // This host: ref → v1. The registry: ref → v2, which this host does not have.
    const v1 = await buildImage(`v1b-${process.pid}`);
    const v2 = await buildImage(`v2-${process.pid}`);
    await pushAs(docker, v2, ref);
    await docker
      .getImage(v1)
      .tag({ repo: ref.slice(0, ref.lastIndexOf(":")), tag: ref.slice(ref.lastIndexOf(":") + 1) });
    await docker.getImage(v2).remove();
    expect(await imageExists(v2)).toBe(false);
    expect(await localImageId(docker, ref)).toBe(v1);

    const c = id("pull-policy");
    const keep = `${c}-keep`;
    const always = `${c}-always`;
    const files: Record<string, string> = { "keep.yaml": pulledSpec(keep, "IfNotPresent") };
    const dir = specDir(files);
    const first = await berth(["apply", "--id", c, "--specs", dir]);
    expect([first.code, first.stderr]).toEqual([0, ""]);
    expect(await runsFrom(c, keep)).toEqual([ref, v1]);
    expect(await localImageId(docker, ref)).toBe(v1);

    // Always pulls before it creates: the reference moves to v2 and the new container runs it.
    // The tag now names another image than the IfNotPresent container's, so that one is replaced.
    const second = await berth([
      "apply",
      "--id",
      c,
      "--specs",
      specDir({ ...files, "always.yaml": pulledSpec(always, "Always") }),
    ]);
    expect(second.stderr).toBe("");
    expect(second.stdout).toMatch(new RegExp(`^ok create  ${always}: not found \\(`, "m"));
    expect(second.stdout).toMatch(
      new RegExp(`^ok replace ${keep} \\[[0-9a-f]{12}\\] StartFirst: image updated \\(`, "m"),
    );
    expect(second.code).toBe(0);
    expect(await localImageId(docker, ref)).toBe(v2);
    expect(await runsFrom(c, always)).toEqual([ref, v2]);
    expect(await runsFrom(c, keep)).toEqual([ref, v2]);
  });
});
