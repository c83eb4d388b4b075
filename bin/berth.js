#!/usr/bin/env node
// The installed entry point: run `npm run build` first. The CLI runs from dist/bundle/, a few
// files made by scripts/bundle.mjs (start-up: docs/benchmarks.md); dist/ has the same modules
// one file each, for the tests.
import module from "node:module";
import { keepYoungGenerationSmall } from "../dist/bundle/heap.js";

// Node 22.1+ can keep compiled code between runs (in the system's temp directory; Node 20,
// which berth supports, has no such cache for ES modules).
module.enableCompileCache?.();
// Before anything else loads (src/cli/heap.ts): commands come first, so argv[2] is the command.
if (process.argv[2] === "run") keepYoungGenerationSmall();
const { main } = await import("../dist/bundle/main.js");

// A command is over when main returns: a call still waiting on a silent engine (it would end at
// its own deadline) must not keep the process alive. stdout and stderr are synchronous on Linux.
process.exit(await main(process.argv));
