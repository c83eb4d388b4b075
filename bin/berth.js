#!/usr/bin/env node
// The installed entry point: run `npm run build` first; the CLI lives in dist/.
import { keepYoungGenerationSmall } from "../dist/cli/heap.js";

// Before anything else loads (src/cli/heap.ts): commands come first, so argv[2] is the command.
if (process.argv[2] === "run") keepYoungGenerationSmall();
const { main } = await import("../dist/cli/main.js");

// A command is over when main returns: a call still waiting on a silent engine (it would end at
// its own deadline) must not keep the process alive. stdout and stderr are synchronous on Linux.
process.exit(await main(process.argv));
