/**
 * Verdicts on spec files kept between short commands (src/manifest/verdicts.ts): a file judged
 * valid by this build, with these options, is judged again without parsing; anything else is
 * parsed every time.
 */
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../../src/core/policy/policy.js";
import { hostPolicyContext } from "../../../src/host/host-paths.js";
import { DEFAULT_LOADER_OPTIONS, type LoaderOptions, SpecLoader } from "../../../src/manifest/loader.js";
import type { FileParseResult } from "../../../src/manifest/parse.js";
import {
  optionsFingerprint,
  storable,
  VerdictFile,
  type VerdictStore,
  verdictKey,
  watchedContext,
} from "../../../src/manifest/verdicts.js";
import { specText } from "../../support/specs.js";
import { tempDir } from "../../support/tmp.js";

/** A store in memory that counts what the loader asks and offers. */
class CountingStore implements VerdictStore {
  readonly kept = new Map<string, FileParseResult>();
  gets = 0;
  hits = 0;
  puts = 0;
  saves = 0;
  get(key: string): FileParseResult | undefined {
    this.gets++;
    const found = this.kept.get(key);
    if (found) this.hits++;
    return found;
  }
  put(key: string, result: FileParseResult): void {
    this.puts++;
    this.kept.set(key, result);
  }
  save(): void {
    this.saves++;
  }
}

const OPTIONS: LoaderOptions = { ...DEFAULT_LOADER_OPTIONS, policyContext: hostPolicyContext };

function folder(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe("the verdict key", () => {
  const base = optionsFingerprint(OPTIONS);
  it("changes with the bytes, the file's name and every option that decides a verdict", () => {
    const key = verdictKey(base, "a.yaml", "d1");
    expect(verdictKey(base, "a.yaml", "d1")).toBe(key);
    const others = [
      verdictKey(base, "a.yaml", "d2"),
      verdictKey(base, "b.yaml", "d1"),
      verdictKey(optionsFingerprint({ ...OPTIONS, labelPrefix: "other" }), "a.yaml", "d1"),
      verdictKey(optionsFingerprint({ ...OPTIONS, target: "swarm" }), "a.yaml", "d1"),
      verdictKey(optionsFingerprint({ ...OPTIONS, limits: { ...OPTIONS.limits, maxDepth: 3 } }), "a.yaml", "d1"),
      verdictKey(
        optionsFingerprint({ ...OPTIONS, policy: { ...DEFAULT_POLICY, maxMemoryBytes: 1024 } }),
        "a.yaml",
        "d1",
      ),
      verdictKey(
        optionsFingerprint({ ...OPTIONS, policy: { ...DEFAULT_POLICY, allowBind: ["/srv"] } }),
        "a.yaml",
        "d1",
      ),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it("does not change with the policy context (its use is watched instead)", () => {
    expect(optionsFingerprint({ ...OPTIONS, policyContext: { realpath: (p) => p } })).toBe(base);
  });
});

describe("what may be kept", () => {
  const valid: FileParseResult = { documents: [], issues: [], names: ["a"] };
  it("only a valid verdict reached without the host, exact through JSON", () => {
    expect(storable(valid, false)).toBe(true);
    expect(storable(valid, true)).toBe(false);
    const issue = { code: "BERTH_SCHEMA", file: "a.yaml", line: 1, column: 1, path: "", message: "x" } as const;
    expect(storable({ ...valid, issues: [issue] }, false)).toBe(false);
    // undefined does not survive JSON: such a result is parsed every time rather than changed.
    expect(storable({ ...valid, names: [undefined as unknown as string] }, false)).toBe(false);
  });

  it("notices any call of the policy context, and passes it through", () => {
    const { context, consulted } = watchedContext({ realpath: (p) => `${p}/real` });
    expect(consulted()).toBe(false);
    expect(context.sameFile).toBeUndefined();
    expect(consulted()).toBe(false);
    expect(context.realpath("/x")).toBe("/x/real");
    expect(consulted()).toBe(true);
  });
});

describe("the loader with a store", () => {
  it("recalls an unchanged valid file in a new loader, and parses a changed one", async () => {
    const dir = folder({ "a.yaml": specText("a"), "b.yaml": specText("b") });
    const store = new CountingStore();
    const first = await new SpecLoader([dir], { ...OPTIONS, verdicts: store }).load();
    expect([store.puts, store.hits, first.stats]).toEqual([2, 0, { parsed: 2, reused: 0 }]);
    const second = await new SpecLoader([dir], { ...OPTIONS, verdicts: store }).load();
    expect([store.puts, store.hits, second.stats]).toEqual([2, 2, { parsed: 0, reused: 2 }]);
    expect(second.files.map((f) => f.result)).toEqual(first.files.map((f) => f.result));
    expect(store.saves).toBe(2);

    writeFileSync(path.join(dir, "b.yaml"), specText("b", { image: "berth-test/busybox:2" }));
    const third = await new SpecLoader([dir], { ...OPTIONS, verdicts: store }).load();
    expect(third.stats).toEqual({ parsed: 1, reused: 1 });
    expect(third.files[1]?.result.documents[0]?.spec.image).toBe("berth-test/busybox:2");
  });

  it("keeps no verdict on a broken file: each load reports it at its position", async () => {
    const dir = folder({ "bad.yaml": specText("bad", { extra: ["replicas: many"] }) });
    const store = new CountingStore();
    for (let i = 0; i < 2; i++) {
      const load = await new SpecLoader([dir], { ...OPTIONS, verdicts: store }).load();
      expect(load.issues.map((x) => [x.line, x.path])).toEqual([[7, "spec.replicas"]]);
    }
    expect([store.puts, store.hits]).toEqual([0, 0]);
  });

  it("keeps no verdict that looked at the host (a bind mount's links), so a changed link is seen", async () => {
    const allowed = tempDir();
    const dir = folder({
      "m.yaml": specText("m", { extra: [`mounts: [{ type: bind, source: ${allowed}/data, target: /data }]`] }),
    });
    const store = new CountingStore();
    const options = { ...OPTIONS, policy: { ...DEFAULT_POLICY, allowBind: [allowed] }, verdicts: store };
    const load = await new SpecLoader([dir], options).load();
    expect(load.issues).toEqual([]);
    expect(store.puts).toBe(0);
  });

  it("judges again under another policy", async () => {
    const dir = folder({ "a.yaml": specText("a", { extra: ["resources: { memory: 2Gi }"] }) });
    const store = new CountingStore();
    expect((await new SpecLoader([dir], { ...OPTIONS, verdicts: store }).load()).issues).toEqual([]);
    const strict = { ...OPTIONS, policy: { ...DEFAULT_POLICY, maxMemoryBytes: 1024 ** 3 }, verdicts: store };
    const refused = await new SpecLoader([dir], strict).load();
    expect(refused.issues.map((i) => [i.code, i.path])).toEqual([["BERTH_POLICY", "spec.resources.memory"]]);
  });
});

describe("VerdictFile", () => {
  const result: FileParseResult = { documents: [], issues: [], names: ["a"] };
  const storeFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith("verdicts-"));

  it("writes what was used, reads it in the next process, and drops what is no longer used", () => {
    const dir = tempDir();
    const one = VerdictFile.in(dir, ["specs"]);
    expect(one.get("k1")).toBeUndefined();
    one.put("k1", result);
    one.put("k2", result);
    one.save();
    expect(storeFiles(dir)).toHaveLength(1);
    const two = VerdictFile.in(dir, ["specs"]);
    expect(two.get("k1")).toEqual(result);
    two.save(); // k2 was not used: it goes
    expect(VerdictFile.in(dir, ["specs"]).get("k2")).toBeUndefined();
    // Other spec folders have a store of their own.
    expect(VerdictFile.in(dir, ["other"]).get("k1")).toBeUndefined();
  });

  it("writes nothing when nothing changed, and treats a damaged file as empty", () => {
    const dir = tempDir();
    const store = VerdictFile.in(dir, ["specs"]);
    store.save();
    expect(storeFiles(dir)).toEqual([]);
    store.put("k", result);
    store.save();
    const [name] = storeFiles(dir);
    const file = path.join(dir, name ?? "");
    const before = readFileSync(file, "utf8");
    const again = VerdictFile.in(dir, ["specs"]);
    expect(again.get("k")).toEqual(result);
    utimesSync(file, 1, 1);
    again.save();
    expect(readFileSync(file, "utf8")).toBe(before);
    writeFileSync(file, before.slice(0, 20));
    expect(VerdictFile.in(dir, ["specs"]).get("k")).toBeUndefined();
  });

  it("keeps at most 32 stores in a folder, the most recently written", () => {
    const dir = tempDir();
    const seen = new Set<string>();
    for (let i = 0; i < 34; i++) {
      const store = VerdictFile.in(dir, [`specs${i}`]);
      store.put("k", result);
      store.save();
      utimesSync(path.join(dir, storeFiles(dir).find((n) => !seen.has(n)) ?? ""), i + 1, i + 1);
      for (const n of storeFiles(dir)) seen.add(n);
    }
    expect(storeFiles(dir)).toHaveLength(32);
    expect(VerdictFile.in(dir, ["specs0"]).get("k")).toBeUndefined();
    expect(VerdictFile.in(dir, ["specs33"]).get("k")).toEqual(result);
  });
});
