/** The API's bearer token on the CLI: --api-token-file (read here) beats BERTH_API_TOKEN. */
import { readFile } from "node:fs/promises";
import { BerthError } from "../core/errors.js";
import type { CliIO } from "./io.js";

export async function readApiToken(apiTokenFile: string | undefined, io: CliIO): Promise<string | undefined> {
  if (apiTokenFile !== undefined) {
    try {
      return (await readFile(apiTokenFile, "utf8")).trim();
    } catch (err) {
      throw BerthError.usage(`--api-token-file: cannot read ${apiTokenFile}: ${(err as Error).message}`);
    }
  }
  return io.env.BERTH_API_TOKEN;
}
