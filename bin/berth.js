#!/usr/bin/env node
// The installed entry point: run `npm run build` first. The CLI is one CommonJS file,
// dist/bundle/main.cjs (scripts/bundle.mjs), run with V8's code cache of the command
// (src/cli/code-cache.ts; start-up: docs/benchmarks.md); dist/ has the same modules one file
// each, for the tests.
import { fileURLToPath } from "node:url";
import { cacheRoot, runBundle } from "../dist/bundle/code-cache.js";
import { keepYoungGenerationSmall } from "../dist/bundle/heap.js";

// Before anything else loads (src/cli/heap.ts): commands come first, so argv[2] is the command.
if (process.argv[2] === "run") keepYoungGenerationSmall();
const bundle = runBundle(
  fileURLToPath(new URL("../dist/bundle/main.cjs", import.meta.url)),
  process.argv[2] ?? "",
  cacheRoot(process.env),
);
const code = await bundle.exports.main(process.argv);
bundle.save();

// A command is over when main returns: a call still waiting on a silent engine (it would end at
// its own deadline) must not keep the process alive. stdout and stderr are synchronous on Linux.
process.exit(code);
