#!/usr/bin/env node
// The installed entry point: run `npm run build` first; the CLI lives in dist/.
import { keepYoungGenerationSmall } from "../dist/cli/heap.js";

// Before anything else loads (src/cli/heap.ts): commands come first, so argv[2] is the command.
if (process.argv[2] === "run") keepYoungGenerationSmall();
const { main } = await import("../dist/cli/main.js");

process.exitCode = await main(process.argv);
