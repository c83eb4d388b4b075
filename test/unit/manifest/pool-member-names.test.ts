/**
 * A pool's members are `<pool>-<n>` for any n, not only below its size (claims and refills go
 * past it: docs/pools.md), so a spec named `<pool>-<n>` would leave the pool's refill into that
 * name failing forever. Refused like a duplicate name, in both directions: by `berth validate`
 * over a folder (an error on both files) and by `PUT /v1/specs/{name}` (409 naming the other file).
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { SpecLoader } from "../../../src/manifest/loader.js";
import { BEARER, loadedRecord, testServer } from "../../support/http-server.js";
import { loadChecked } from "../../support/load.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

const YAML_TYPE = { "content-type": "application/yaml" };
const RULE =
  "a pool's members are named <pool>-<n> for any n, so no other spec may take such a name (neither is applied)";

const pool = (name: string, size = 3): string => specText(name, { extra: [`pool: { size: ${size} }`] });

function write(dir: string, file: string, text: string): string {
  const p = path.join(dir, file);
  writeFileSync(p, text);
  return p;
}

describe("a spec named like a pool's member, in a spec folder", () => {
  it("is an error on both files whatever n is, beyond the pool's size too", async () => {
    const dir = tempDir();
    const one = write(dir, "one.yaml", pool("one"));
    const taker = write(dir, "one-9.yaml", specText("one-9"));
    write(dir, "other.yaml", specText("other"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.specs.map((s) => s.spec.name)).toEqual(["other"]);
    expect(result.issues.map(formatIssue)).toEqual([
      `${taker}:4:9: metadata.name: "one-9" is the name of a member of pool "one" at ${one}:4:9; ${RULE}`,
      `${one}:4:9: metadata.name: member name "one-9" is also defined at ${taker}:4:9; ${RULE}`,
    ]);
  });

  it("within the size too, and for a pool of size 1 (its member is one-0, not one)", async () => {
    const dir = tempDir();
    write(dir, "one.yaml", pool("one", 1));
    write(dir, "one-0.yaml", specText("one-0"));
    write(dir, "one-1.yaml", specText("one-1", { replicas: 2 }));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.specs).toEqual([]);
    expect(result.issues.map((i) => [path.basename(i.file), i.code])).toEqual([
      ["one-0.yaml", "BERTH_DUPLICATE_NAME"],
      ["one-1.yaml", "BERTH_DUPLICATE_NAME"],
      ["one.yaml", "BERTH_DUPLICATE_NAME"],
    ]);
    expect(result.issues[2]?.message).toMatch(/^member names "one-0", "one-1" are also defined at /);
  });

  it("is not a member name when the suffix is no number berth would give (one-09, one-x, one-9-a)", async () => {
    const dir = tempDir();
    write(dir, "one.yaml", pool("one"));
    for (const name of ["one-09", "one-x", "one-9-a", "onex-1"]) write(dir, `${name}.yaml`, specText(name));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues.map(formatIssue)).toEqual([]);
    expect(result.specs.map((s) => s.spec.name).sort()).toEqual(["one", "one-09", "one-9-a", "one-x", "onex-1"]);
  });

  it("leaves replicas as they were: a spec web-5 beside web with replicas: 2 is no clash", async () => {
    const dir = tempDir();
    write(dir, "web.yaml", specText("web", { replicas: 2 }));
    write(dir, "web-5.yaml", specText("web-5"));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.issues.map(formatIssue)).toEqual([]);
  });
});

describe("pool member names when the pool's file is broken", () => {
  it("keeps them: a spec one-9 is refused, naming the broken file, until that file is fixed", async () => {
    const dir = tempDir();
    const one = write(dir, "one.yaml", pool("one").replace("image:", "imagee:"));
    const taker = write(dir, "one-9.yaml", specText("one-9"));
    write(dir, "web-1.yaml", specText("web-1"));
    const broken = await loadChecked(new SpecLoader([dir]));
    expect(broken.specs.map((s) => s.spec.name)).toEqual(["web-1"]);
    expect(broken.issues.filter((i) => i.file === taker).map(formatIssue)).toEqual([
      `${taker}:4:9: metadata.name: "one-9" is the name of a member of pool "one" in ${one}, which has errors; ${RULE}`,
    ]);
    // A broken file that is no pool keeps only its own name: web-1 beside a broken web is no clash.
    write(dir, "web.yaml", specText("web").replace("image:", "imagee:"));
    expect((await loadChecked(new SpecLoader([dir]))).specs.map((s) => s.spec.name)).toEqual(["web-1"]);
  });
});

describe("a namespace join to a pool's member", () => {
  it("is a join to a container of a spec, for a pool of size 1 too (its member is one-0)", async () => {
    const dir = tempDir();
    write(dir, "one.yaml", pool("one", 1));
    write(dir, "two.yaml", pool("two", 3));
    write(dir, "side.yaml", specText("side", { extra: ["network: container:one-0"] }));
    write(dir, "side2.yaml", specText("side2", { extra: ["pidMode: container:two-7"] }));
    write(dir, "bad.yaml", specText("bad", { extra: ["network: container:one"] }));
    const result = await loadChecked(new SpecLoader([dir]));
    expect(result.specs.map((s) => s.spec.name).sort()).toEqual(["one", "side", "side2", "two"]);
    expect(result.issues.map((i) => [path.basename(i.file), i.path, i.message.split(" [")[1]])).toEqual([
      ["bad.yaml", "spec.network", "policy baseline: no-foreign-namespace-join]"],
    ]);
  });
});

describe("PUT /v1/specs/{name} and pool member names", () => {
  it("refuses a spec named <pool>-<n> beyond the pool's size: 409 naming the pool's file, nothing written", async () => {
    const s = testServer({ loaded: () => [loadedRecord("specs/one.yaml", pool("one"))] });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/one-9",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: specText("one-9"),
    });
    expect([res.statusCode, res.json().file]).toEqual([409, "specs/one.yaml"]);
    expect(res.json().error).toContain("spec one in specs/one.yaml");
    expect(readdirSync(s.dir)).toEqual([]);
    expect(s.changes()).toBe(0);
  });

  it("the other way round: a pool whose member names cover an existing spec's name: 409", async () => {
    const s = testServer({ loaded: () => [loadedRecord("specs/one-12.yaml", specText("one-12"))] });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/one",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: pool("one", 2),
    });
    expect([res.statusCode, res.json().file]).toEqual([409, "specs/one-12.yaml"]);
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it("a pool loaded from the runtime folder is no clash with itself when written again", async () => {
    const s = testServer({ loaded: (dir) => [loadedRecord(path.join(dir, "one.yaml"), pool("one"))] });
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/specs/one",
      headers: { ...BEARER, ...YAML_TYPE },
      payload: pool("one", 5),
    });
    expect(res.statusCode).toBe(201);
  });
});
