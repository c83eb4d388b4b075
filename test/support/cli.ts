/** Runs the CLI in-process with captured output. */
import { type CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    isTTY: false,
    env: process.env,
    cwd: process.cwd(),
  };
  const code = await main(["node", "berth", ...args], io);
  return { code, stdout, stderr };
}
