#!/usr/bin/env node
// The installed entry point: run `npm run build` first. The CLI is one CommonJS file,
// dist/bundle/main.cjs (scripts/bundle.mjs), run with V8's code cache of the command
// (src/cli/code-cache.ts; start-up: docs/benchmarks.md); dist/ has the same modules one file
// each, for the tests.
import { fileURLToPath } from "node:url";
import { cacheName, cacheRoot, runBundle } from "../dist/bundle/code-cache.js";
import { keepYoungGenerationSmall } from "../dist/bundle/heap.js";

// Before anything else loads (src/cli/heap.ts): commands come first, so argv[2] is the command.
const command = process.argv[2] ?? "";
if (command === "run") keepYoungGenerationSmall();
// `berth --version` alone, as commander would print it, without reading the bundle (2 MB): a
// version check must not cost more than Node's start when no code cache is at hand.
if (process.argv.length === 3 && (command === "--version" || command === "-V")) {
  const { VERSION } = await import("../dist/bundle/version.js");
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
const bundle = runBundle(
  fileURLToPath(new URL("../dist/bundle/main.cjs", import.meta.url)),
  cacheName(process.argv, process.env),
  cacheRoot(process.env),
);
const code = await bundle.exports.main(process.argv, undefined, bundle.folder);
// Each command has a cache of its own (one more under --target swarm), flags and help share one: a
// mistyped command gets none.
if (!/^[a-z]+$/.test(command) || Object.hasOwn(bundle.exports.COMMANDS, command)) bundle.save();

// A command is over when main returns: a call still waiting on a silent engine (it would end at
// its own deadline) must not keep the process alive. But not before what it printed has gone: a
// pipe whose reader is slower than berth holds the rest (past the pipe's 64 KiB) in the stream,
// and process.exit would drop it. A write's callback runs once it and all before it are written,
// or have failed (a reader that has closed the pipe: src/cli/io.ts).
await Promise.all(
  [process.stdout, process.stderr].map((stream) =>
    stream.writableLength > 0 ? new Promise((resolve) => stream.write("", resolve)) : undefined,
  ),
);
process.exit(code);
