/**
 * The images berth built, once superseded (docs/images.md, Builds), end to end through the built
 * CLI against the real engine: after each edit of a build context only the current and the
 * previous `berth.local/web:*` of this controller remain; an old one that a container made by hand
 * (not berth's) uses stays until that container is gone; deleting the spec file removes its
 * container and then its images; another controller's build of the same spec name is never
 * touched. Every image builds FROM the local test image: nothing is pulled.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { berth, containersOf, docker, removeImage, specDir, testIds } from "../support/e2e.js";
import { pollUntil } from "../support/poll.js";
import { specText } from "../support/specs.js";

const id = testIds();
/** Controller ids whose images, and containers made by hand, are removed after the file. */
const ids: string[] = [];
const handMade: string[] = [];

afterAll(async () => {
  for (const name of handMade) {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
  for (const controller of ids) {
    const images = await docker.listImages({ filters: { label: [`berth.built_by=${controller}`] } });
    for (const image of images) await removeImage(image.Id);
  }
});

/** Container names are the engine's, shared with every other test: this file's own. */
const WEB_NAME = `gc-web-${process.pid}`;
const KEEP_NAME = `gc-keep-${process.pid}`;
const BUILT = `berth.local/${WEB_NAME}:`;

const WEB = specText(WEB_NAME, {
  image: null,
  extra: ["build:", "  context: ./app", 'command: ["sleep", "3600"]', "init: true", "stopTimeout: 1s"],
});
/** A second spec, so that the folder's one other container keeps the prune guard's share open. */
const KEEP = specText(KEEP_NAME, { extra: ['command: ["sleep", "3600"]', "init: true", "stopTimeout: 1s"] });
const DOCKERFILE = "FROM berth-test/busybox:latest\nCOPY msg.txt /msg.txt\n";

/** The `berth.local/web:*` tags of a controller's images, and the newest image's creation second. */
async function builtTags(controller: string): Promise<{ tags: string[]; newest: number }> {
  const images = await docker.listImages({ filters: { label: [`berth.built_by=${controller}`] } });
  return {
    tags: images
      .flatMap((i) => i.RepoTags ?? [])
      .filter((t) => t.startsWith(BUILT))
      .sort(),
    newest: Math.max(0, ...images.map((i) => i.Created)),
  };
}

/** The image the controller's web container was created from. */
async function webImage(controller: string): Promise<string> {
  const web = (await containersOf(controller)).find((c) => c.name === WEB_NAME);
  if (!web) throw new Error(`no web container of ${controller}`);
  return (await docker.getContainer(web.id).inspect()).Config.Image;
}

/** `berth apply`; the output is shown when it fails. */
async function apply(controller: string, dir: string): Promise<string> {
  const r = await berth(["apply", "--id", controller, "--timeout", "90s", "--specs", dir]);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout + r.stderr;
}

/**
 * Edits web's context and applies: a new build. The engine lists an image's creation time in
 * whole seconds and berth keeps the most recent superseded build by it, so each edit waits for
 * the second after the last build (a poll on the clock, bounded).
 */
async function rebuild(controller: string, dir: string, text: string): Promise<{ image: string; output: string }> {
  const { newest } = await builtTags(controller);
  expect(await pollUntil(() => Date.now() / 1000 >= newest + 1, 5_000)).toBe(true);
  writeFileSync(path.join(dir, "app/msg.txt"), text);
  const output = await apply(controller, dir);
  return { image: await webImage(controller), output };
}

describe("built images, once superseded", () => {
  it("keeps the current and the previous build, spares one a foreign container uses, and goes with its spec", async () => {
    const controller = id("build-gc");
    const other = id("build-gc-other");
    ids.push(controller, other);

    // Another controller's build of a spec of the same name: older than all of ours, never ours to remove.
    const otherDir = specDir({ "web.yaml": WEB, "app/Dockerfile": DOCKERFILE, "app/msg.txt": "other\n" });
    await apply(other, otherDir);
    const { tags: theirs } = await builtTags(other);
    expect(theirs).toHaveLength(1);
    // Its container goes by hand (the name is ours next); its image stays, labelled for it.
    for (const c of await containersOf(other)) await docker.getContainer(c.id).remove({ force: true });

    const dir = specDir({ "web.yaml": WEB, "keep.yaml": KEEP, "app/Dockerfile": DOCKERFILE, "app/msg.txt": "1\n" });
    await apply(controller, dir);
    const one = await webImage(controller);
    const two = (await rebuild(controller, dir, "2\n")).image;
    expect((await builtTags(controller)).tags).toEqual([one, two].sort());

    // The third build: the first goes, reported by apply as any action.
    const three = await rebuild(controller, dir, "3\n");
    expect(three.output).toContain(`remove  image ${one}: superseded build`);
    expect((await builtTags(controller)).tags).toEqual([two, three.image].sort());

    // A container made by hand (not berth's: no labels) from the second build keeps it.
    const hand = `${controller}-hand`;
    handMade.push(hand);
    await docker.createContainer({ name: hand, Image: two, Cmd: ["true"] });
    const four = await rebuild(controller, dir, "4\n");
    expect(four.output).not.toContain("remove  image");
    expect((await builtTags(controller)).tags).toEqual([two, three.image, four.image].sort());
    const idle = await berth(["plan", "--id", controller, "--specs", dir]);
    expect(idle.stdout).toBe("nothing to do\n");
    expect(idle.code).toBe(0);

    // The hand-made container gone: the plan shows the removal (text and JSON), apply makes it.
    await docker.getContainer(hand).remove({ force: true });
    const planned = await berth(["plan", "--id", controller, "--specs", dir]);
    expect(planned.code, planned.stderr).toBe(2);
    expect(planned.stdout).toBe(`remove  image ${two}: superseded build\n1 change pending\n`);
    // A pending image removal changes none of the spec's containers: it stays Running.
    const status = await berth(["status", "--id", controller, "--specs", dir]);
    expect(status.stdout).toMatch(new RegExp(`${WEB_NAME} +Running +1/1`));
    const json = await berth(["plan", "--id", controller, "--specs", dir, "-o", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      actions: [{ kind: "remove-image", spec: WEB_NAME, image: two, reason: "superseded build" }],
    });
    await apply(controller, dir);
    expect((await builtTags(controller)).tags).toEqual([three.image, four.image].sort());

    // The spec file deleted: its container goes, then its images; the other spec stays.
    rmSync(path.join(dir, "web.yaml"));
    const gone = await apply(controller, dir);
    const lines = gone.split("\n");
    const removed = lines.findIndex((l) => l.includes(`remove  ${WEB_NAME} [`) && l.includes("]: orphaned"));
    const images = lines.flatMap((l, i) =>
      l.includes(`remove  image ${BUILT}`) && l.includes(": orphaned") ? [i] : [],
    );
    expect(removed, gone).toBeGreaterThanOrEqual(0);
    expect(images, gone).toHaveLength(2);
    expect(Math.min(...images)).toBeGreaterThan(removed);
    expect((await builtTags(controller)).tags).toEqual([]);
    expect((await containersOf(controller)).map((c) => c.name)).toEqual([KEEP_NAME]);

    // The other controller's image was never touched.
    expect((await builtTags(other)).tags).toEqual(theirs);
  }, 300_000);
});
