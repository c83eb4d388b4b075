/**
 * The published schema as editors and other tools read it: draft-07 (yaml-language-server and
 * VS Code resolve it fully), validated here with a plain draft-07 ajv that, as editors do,
 * ignores berth's own annotation keywords. The bundled specs pass; the mistakes berth refuses
 * are refused there too; each bundled spec's modeline names the schema file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";

const schemaFile = "schemas/container.schema.json";
const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, unknown>;
const specFiles = readdirSync("specs")
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => path.join("specs", f));

function validator() {
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

function documents(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null);
}

describe("the schema for editors (draft-07)", () => {
  it("declares draft-07 and keeps its definitions where draft-07 looks for them", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema).not.toHaveProperty("$defs");
    const refs = [...JSON.stringify(schema).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    const definitions = schema.definitions as Record<string, unknown>;
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/definitions\//);
      expect(definitions).toHaveProperty(ref.slice("#/definitions/".length));
    }
  });

  it("passes every bundled spec with a plain draft-07 ajv", () => {
    const validate = validator();
    expect(specFiles.length).toBeGreaterThan(0);
    for (const file of specFiles) {
      const docs = documents(file);
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        const ok = validate(doc);
        expect({ file, ok, errors: validate.errors ?? null }).toEqual({ file, ok: true, errors: null });
      }
    }
  });

  it("refuses there what berth refuses: a unit it does not know, a mount of no known type, an unknown field", () => {
    const validate = validator();
    const [good] = documents("specs/web.yaml") as { spec: Record<string, unknown> }[];
    const bad = [
      { ...good, spec: { ...good?.spec, resources: { memory: "512MB" } } },
      { ...good, spec: { ...good?.spec, mounts: [{ type: "nfs", target: "/x" }] } },
      { ...good, spec: { ...good?.spec, workDir: "/x" } },
      { ...good, apiVersion: "v1" },
    ];
    for (const doc of bad) expect(validate(doc)).toBe(false);
  });

  it("is named by every bundled spec's yaml-language-server modeline", () => {
    for (const file of specFiles) {
      const first = readFileSync(file, "utf8").split("\n")[0] ?? "";
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(m, file).not.toBeNull();
      expect(path.resolve(path.dirname(file), m?.[1] ?? "")).toBe(path.resolve(schemaFile));
    }
  });
});
