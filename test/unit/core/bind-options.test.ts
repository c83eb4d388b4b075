/**
 * A bind mount cannot smuggle options into the create body (issue 14, finding 12): berth builds
 * the Binds form `source:target[:ro]` (which, like `docker run -v`, creates a missing host
 * folder), so a ':' or ',' in a source or target would be read by Docker as mount options —
 * `target: "/m:z"` relabels the host folder, `/m:rshared` shares mounts back to the host. Refused
 * by the schema, and by normalize for any caller that skips it.
 */
import { describe, expect, it } from "vitest";
import { buildPolicy } from "../../../src/config.js";
import { buildCreateBody } from "../../../src/core/create-request.js";
import type { BerthContainer } from "../../../src/core/document.gen.js";
import { formatIssue } from "../../../src/core/errors.js";
import { labelKeys } from "../../../src/core/labels.js";
import { normalize } from "../../../src/core/normalize.js";
import { ownership } from "../../../src/core/ownership.js";
import { DEFAULT_PARSE_OPTIONS, parseSpecText } from "../../../src/manifest/parse.js";
import { specText } from "../../support/specs.js";

const policy = buildPolicy({ allowBind: ["/srv"] });
const errors = (mount: string): string[] =>
  parseSpecText(specText("s", { extra: [`mounts: [${mount}]`] }), "s.yaml", {
    ...DEFAULT_PARSE_OPTIONS,
    policy,
  }).issues.map((i) => formatIssue(i));

describe("':' and ',' in bind mount paths", () => {
  it.each([
    ["a relabel option in the target", '{ type: bind, source: /srv/x, target: "/m:z" }', "target", "/m:z"],
    ["propagation in the target", '{ type: bind, source: /srv/x, target: "/m:rshared" }', "target", "/m:rshared"],
    ["a colon in the source", '{ type: bind, source: "/srv/x:/etc", target: /m }', "source", "/srv/x:/etc"],
    ["a comma in the target", '{ type: bind, source: /srv/x, target: "/m:ro,z" }', "target", "/m:ro,z"],
    ["a comma alone", '{ type: bind, source: "/srv/a,b", target: /m }', "source", "/srv/a,b"],
  ])("refuses %s, saying why", (_what, mount, field, value) => {
    const [only, ...rest] = errors(mount);
    expect(rest).toEqual([]);
    expect(only).toMatch(
      new RegExp(
        `^s\\.yaml:7:\\d+: spec\\.mounts\\[0\\]\\.${field}: ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} ` +
          "is not a path without ':' or ',' \\(Docker would read what follows as bind mount options: z relabels the host folder, rshared shares mounts back to the host\\)$",
      ),
    );
  });

  it("still says 'not an absolute path' for a relative one", () => {
    expect(errors("{ type: bind, source: ./data, target: /m }")).toEqual([
      's.yaml:7:34: spec.mounts[0].source: "./data" is not an absolute path (e.g. /workspace)',
    ]);
  });

  it("leaves volume and tmpfs targets alone (they go in the structured Mounts form)", () => {
    expect(errors('{ type: volume, source: data, target: "/m:z" }')).toEqual([]);
  });

  it("is refused by normalize too, for a caller that skips the schema", () => {
    const doc = {
      apiVersion: "berth/v1",
      kind: "Container",
      metadata: { name: "s" },
      spec: { image: "busybox", mounts: [{ type: "bind", source: "/srv/x", target: "/m:z" }] },
    } as BerthContainer;
    const result = normalize(doc, { labelPrefix: "berth" });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([
      {
        code: "BERTH_VALUE",
        path: ["spec", "mounts", 0, "target"],
        message: `"/m:z" holds ':' or ','; Docker would read what follows as bind mount options`,
      },
    ]);
  });

  it("renders an accepted bind as exactly source:target[:ro]", () => {
    const parsed = parseSpecText(
      specText("s", {
        extra: [
          "mounts: [{ type: bind, source: /srv/x, target: /m }, { type: bind, source: /srv/y, target: /n, readOnly: true }]",
        ],
      }),
      "s.yaml",
      { ...DEFAULT_PARSE_OPTIONS, policy },
    );
    const spec = parsed.documents[0]?.spec;
    if (!spec) throw new Error("not accepted");
    const body = buildCreateBody(spec, {
      owner: ownership(labelKeys(), "t"),
      replica: 0,
      hash: "h",
      source: "s.yaml",
      secretValues: {},
      network: "bridge",
    });
    expect(body.HostConfig.Binds).toEqual(["/srv/x:/m", "/srv/y:/n:ro"]);
  });
});
