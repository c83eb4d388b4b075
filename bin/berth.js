#!/usr/bin/env node
// The installed entry point: run `npm run build` first; the CLI lives in dist/.
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv);
