/**
 * berth's version, as `berth --version` prints it and a lock holder reports it: package.json's,
 * the one place it is written. Read from the nearest package.json above this module, wherever the
 * build put it (dist/cli/, a bundle in dist/, src/ under tsx, an npm install's node_modules/berth/).
 */
import { readFileSync } from "node:fs";

function packageVersion(): string {
  for (let dir = new URL(".", import.meta.url); ;) {
    let text: string | undefined;
    try {
      text = readFileSync(new URL("package.json", dir), "utf8");
    } catch {
      // none here: look one folder up
    }
    if (text !== undefined) {
      const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof version !== "string") throw new Error(`${new URL("package.json", dir).pathname} has no version`);
      return version;
    }
    const parent = new URL("..", dir);
    if (parent.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
    dir = parent;
  }
}

export const VERSION: string = packageVersion();
