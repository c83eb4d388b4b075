/**
 * The bundled specs/ folder made private to one test: a copy in which every container name, named
 * volume and host port is the test's own, so that it can run on a host where someone follows the
 * Quick start (web on 127.0.0.1:18080, the berth-demo-* volumes) or another test runs it too.
 * Everything else in the files stays as shipped, comments included.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isMap, isSeq, parseAllDocuments } from "yaml";
import { tempDir } from "./tmp.js";

export interface PrivateBundle {
  /** The folder holding the rewritten copy. */
  readonly dir: string;
  /** The name each bundled spec has in the copy (`web` → `<prefix>-web`). */
  readonly names: Readonly<Record<string, string>>;
  /** The same for named volumes (`berth-demo-cache` → `<prefix>-berth-demo-cache`). */
  readonly volumes: Readonly<Record<string, string>>;
  /** The same for published host ports: each bundled one → a port free when the copy was made. */
  readonly hostPorts: Readonly<Record<number, number>>;
}

import { freePort } from "./free-port.js";

export { freePort };

const items = (node: unknown): unknown[] => (isSeq(node) ? node.items : []);

/** Copies specs/ to a temporary folder (removed after the test file), renamed with `prefix`. */
export async function privateBundle(prefix: string, from = "specs"): Promise<PrivateBundle> {
  const dir = tempDir("berth-bundled-", "file");
  const names: Record<string, string> = {};
  const volumes: Record<string, string> = {};
  const hostPorts: Record<number, number> = {};
  for (const file of readdirSync(from).filter((f) => /\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(readFileSync(path.join(from, file), "utf8"));
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const name = doc.getIn(["metadata", "name"]);
      if (typeof name !== "string") throw new Error(`${file}: a document without metadata.name`);
      names[name] = `${prefix}-${name}`;
      doc.setIn(["metadata", "name"], names[name]);
      for (const mount of items(doc.getIn(["spec", "mounts"]))) {
        if (!isMap(mount) || mount.get("type") !== "volume") continue;
        const source = String(mount.get("source"));
        volumes[source] ??= `${prefix}-${source}`;
        mount.set("source", volumes[source]);
      }
      for (const port of items(doc.getIn(["spec", "ports"]))) {
        if (!isMap(port) || !port.has("hostPort")) continue;
        const bundled = Number(port.get("hostPort"));
        hostPorts[bundled] ??= await freePort();
        port.set("hostPort", hostPorts[bundled]);
      }
    }
    writeFileSync(path.join(dir, file), docs.map((d) => d.toString()).join(""));
  }
  return { dir, names, volumes, hostPorts };
}
