/**
 * Golden planner tests for the images berth built (core/plan/images.ts): the desired state, the
 * containers and `berth.local/…` tags observed → the exact rendered plan. The current and the most
 * recent superseded image are kept; older ones go once the spec's containers run the current one;
 * never one any container uses (berth's or another's), another controller's, an unlabelled one, nor
 * anything while a file is broken or a folder in doubt; a gone spec's after its containers.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ObservedContainer, ObservedImage, ObservedState } from "../../../src/core/observed.js";
import { type DesiredSpec, type PlanInput, type PlanOptions, plan } from "../../../src/core/plan/plan.js";
import { unkeptImages } from "../../../src/core/plan/images.js";
import { renderPlan } from "../../../src/core/plan/render.js";
import {
  CONTROLLER,
  container,
  desired,
  IMAGE_ID,
  input,
  KEYS,
  observed,
  OPTIONS,
  resetIds,
} from "../../support/plan-fixtures.js";

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

/** berth.local/web:<12 × hex> and its image ID. */
const tag = (hex: string, spec = "web"): string => `berth.local/${spec}:${hex.repeat(12)}`;
const id = (hex: string): string => `sha256:${hex.repeat(64)}`;

interface ImageOptions {
  readonly spec?: string;
  readonly controller?: string;
  /** Labels replacing berth's entirely. */
  readonly labels?: Record<string, string>;
}

/** A tag berth built for `spec`, made `age` minutes before NOW (its image ID from the same letter). */
function image(hex: string, age: number, options: ImageOptions = {}): ObservedImage {
  const spec = options.spec ?? "web";
  return {
    id: id(hex),
    tag: tag(hex, spec),
    createdAt: NOW - age * 60_000,
    labels: options.labels ?? { [KEYS.builtBy]: options.controller ?? CONTROLLER, [KEYS.builtFor]: spec },
  };
}

/** The spec web, built: its image is the tag of `hex`. */
const web = (hex = "c"): DesiredSpec => desired("web", { image: tag(hex) });

/** The host: our containers, the built tags, and the image IDs other containers use (null: not looked). */
function host(
  containers: readonly ObservedContainer[],
  images: readonly ObservedImage[],
  foreign: readonly string[] | null = [],
): ObservedState {
  const base = observed(containers);
  return {
    ...base,
    imageIds: new Map([...base.imageIds, ...images.map((i) => [i.tag, i.id] as const)]),
    builtImages: images,
    ...(foreign ? { foreignImageIds: new Set(foreign) } : {}),
  };
}

/** A, B, C, D built in that order (D newest): web names D and its container runs it. */
const FOUR = [image("a", 40), image("b", 30), image("c", 20), image("d", 10)];

interface Case {
  readonly input: PlanInput;
  readonly observed: ObservedState;
  readonly options?: Partial<PlanOptions>;
  readonly expected: string;
}

const cases: Record<string, () => Case> = {
  "keeps the current and the previous build, removes the older ones": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("d") })], FOUR),
    expected: [`remove  image ${tag("b")}: superseded build`, `remove  image ${tag("a")}: superseded build`, ""].join(
      "\n",
    ),
  }),
  "a revert: the current is an older build, the newest superseded one is kept": () => ({
    input: input([web("c")]),
    observed: host([container(web("c"), { imageId: id("c") })], FOUR),
    expected: [`remove  image ${tag("b")}: superseded build`, `remove  image ${tag("a")}: superseded build`, ""].join(
      "\n",
    ),
  }),
  "builds of the version before, labelled with the controller and spec keys, are this controller's too": () => ({
    input: input([web("d")]),
    observed: host(
      [container(web("d"), { imageId: id("d") })],
      [
        image("a", 40, { labels: { [KEYS.controller]: CONTROLLER, [KEYS.spec]: "web" } }),
        image("b", 30, { labels: { [KEYS.controller]: "other", [KEYS.spec]: "web" } }),
        image("c", 20),
        image("d", 10),
      ],
    ),
    expected: `remove  image ${tag("a")}: superseded build\n`,
  }),
  "two builds: nothing to remove": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("d") })], [image("c", 20), image("d", 10)]),
    expected: "nothing to do\n",
  }),
  "an old build a container berth does not own uses is kept": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("d") })], FOUR, [id("a")]),
    expected: `remove  image ${tag("b")}: superseded build\n`,
  }),
  "an old build a container of another spec of berth's uses is kept": () => ({
    input: input([web("d"), desired("tool", { image: tag("a") })]),
    observed: host(
      [
        container(web("d"), { imageId: id("d") }),
        container(desired("tool", { image: tag("a") }), { imageId: id("a") }),
      ],
      FOUR,
    ),
    expected: `remove  image ${tag("b")}: superseded build\n`,
  }),
  "another controller's builds under the same name, and an unlabelled berth.local image, are never touched": () => ({
    input: input([web("d")]),
    observed: host(
      [container(web("d"), { imageId: id("d") })],
      [
        image("c", 20),
        image("d", 10),
        image("a", 50, { controller: "other" }),
        image("b", 45, { labels: {} }),
        image("e", 44, { labels: { [KEYS.builtBy]: CONTROLLER } }),
        // Built by another controller, with this one's (inherited, or set by hand) ownership label.
        image("g", 42, { labels: { [KEYS.builtBy]: "other", [KEYS.builtFor]: "web", [KEYS.controller]: CONTROLLER } }),
        // Labelled for another spec, tagged under web's name: not web's, and not api's either.
        { ...image("f", 43, { spec: "api" }), tag: tag("f") },
      ],
    ),
    expected: "nothing to do\n",
  }),
  "not while the container still runs an older build (its replace planned, in flight or failed)": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("c") })], FOUR),
    expected: "replace web [0001aaaabbbb] StartFirst: image updated\n",
  }),
  "not while the new build is missing (being built)": () => ({
    input: input([web("e")]),
    observed: host([container(web("e"), { imageId: id("d") })], FOUR),
    expected: "nothing to do\n",
  }),
  "not while anything else is planned for the spec": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("d"), hash: "old-hash" })], FOUR),
    expected: "replace web [0001aaaabbbb] StartFirst: hash changed\n",
  }),
  "a broken file anywhere: nothing is removed": () => ({
    input: input([web("d")], { protectedSources: new Set(["other.yaml"]) }),
    observed: host([container(web("d"), { imageId: id("d") })], FOUR),
    expected: "nothing to do\n",
  }),
  "a spec folder in doubt: nothing is removed": () => ({
    input: input([web("d")], { prunePaused: "no spec files in specs" }),
    observed: host([container(web("d"), { imageId: id("d") })], FOUR),
    expected: "nothing to do\n",
  }),
  "other containers not looked at: nothing is removed": () => ({
    input: input([web("d")]),
    observed: host([container(web("d"), { imageId: id("d") })], FOUR, null),
    expected: "nothing to do\n",
  }),
  "spec gone from the folder: its containers, then all its images": () => ({
    input: input([desired("keep"), desired("other")]),
    observed: host(
      [container(desired("keep")), container(desired("other")), container("web", { imageId: id("d") })],
      FOUR,
    ),
    expected: [
      "remove  web [0003aaaabbbb]: orphaned",
      `remove  image ${tag("d")}: orphaned`,
      `remove  image ${tag("c")}: orphaned`,
      `remove  image ${tag("b")}: orphaned`,
      `remove  image ${tag("a")}: orphaned`,
      "",
    ].join("\n"),
  }),
  "spec gone, one of its images used by a container berth does not own: that one stays": () => ({
    input: input([desired("keep")]),
    observed: host([container(desired("keep"))], [image("c", 20), image("d", 10)], [id("c")]),
    expected: `remove  image ${tag("d")}: orphaned\n`,
  }),
  "spec gone while the prune guard holds its containers: its images stay too": () => ({
    input: input([desired("keep")]),
    observed: host([container(desired("keep")), container("web", { imageId: id("d") })], FOUR),
    expected: [
      "! prune paused: 1 of 2 managed containers have no spec, more than 0%; nothing is removed (use --force-prune if this is intended): web [0002aaaabbbb]",
      "",
    ].join("\n"),
    options: { pruneMaxShare: 0 },
  }),
  "spec gone, its containers already gone, while the prune guard holds other orphans: its images stay": () => ({
    input: input([desired("keep")]),
    observed: host([container(desired("keep")), container("old", { imageId: IMAGE_ID })], [image("d", 10)]),
    expected: [
      "! prune paused: 1 of 2 managed containers have no spec, more than 0%; nothing is removed (use --force-prune if this is intended): old [0002aaaabbbb]",
      "",
    ].join("\n"),
    options: { pruneMaxShare: 0 },
  }),
  "spec gone, a claimed member of it kept (its claim's): its other images stay too": () => ({
    input: input([desired("keep")], {
      claims: [
        {
          name: "job",
          pool: "web",
          containerId: "claimed",
          container: "web-0",
          expiresAt: null,
          labels: {},
          claimedAt: NOW,
        },
      ],
    }),
    observed: host([container(desired("keep")), container("web", { id: "claimed", imageId: id("d") })], FOUR),
    expected: "nothing to do\n",
  }),
  "spec gone, its container from a broken file: nothing is removed": () => ({
    input: input([desired("keep")], { protectedSources: new Set(["web.yaml"]) }),
    observed: host([container(desired("keep")), container("web", { imageId: id("d") })], FOUR),
    expected: "nothing to do\n",
  }),
  "spec deleted through the API: its container, then its images": () => ({
    input: input([], { deleted: new Set(["web"]) }),
    observed: host([container("web", { imageId: id("d") })], [image("d", 10)]),
    expected: ["remove  web [0001aaaabbbb]: deleted", `remove  image ${tag("d")}: deleted`, ""].join("\n"),
  }),
};

describe("plan: images berth built", () => {
  beforeEach(() => {
    resetIds();
  });

  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const c = make();
      const result = plan(c.input, c.observed, NOW, { ...OPTIONS, ...c.options });
      expect(renderPlan(result)).toBe(c.expected);
    });
  }

  it("an image removal comes after the container removals of its spec (the same key, run in order)", () => {
    const result = plan(input([]), host([container("web", { imageId: id("d") })], [image("d", 10)]), NOW, {
      ...OPTIONS,
      forcePrune: true,
    });
    expect(result.actions.map((a) => [a.kind, a.spec])).toEqual([
      ["remove", "web"],
      ["remove-image", "web"],
    ]);
  });

  it("asks who else uses images only when one may go", () => {
    const owner = OPTIONS.owner;
    expect(unkeptImages(input([web("d")]), host([], [image("c", 20), image("d", 10)]), owner)).toEqual([]);
    expect(unkeptImages(input([web("d")]), host([], FOUR), owner).map((u) => u.image.tag)).toEqual([
      tag("b"),
      tag("a"),
    ]);
    // A container of the spec still on an older build (its replace in flight): none yet.
    expect(unkeptImages(input([web("d")]), host([container(web("d"), { imageId: id("c") })], FOUR), owner)).toEqual([]);
  });
});
