/** `berth release POOL/CLAIM`: end a claim; its container is removed, never returned to the pool. */
import type { Command } from "commander";
import { BerthError } from "../../core/errors.js";
import { type CommandContext, EXIT } from "../io.js";
import { addExamples } from "../options.js";
import { addApiOptions, type ApiOptions, callApi, text } from "../pool-api.js";
import { printable } from "../sanitize.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("release")
    .description("Release a claim on a warm pool: its container is removed (the pool keeps its own size).")
    .argument("<pool/claim>", "the pool's name and the claim's, as berth claim printed them");
  addExamples(addApiOptions(command), [
    { command: "berth release sandbox/job-42", what: "release claim job-42 of pool sandbox" },
    {
      command: "BERTH_SERVER=http://127.0.0.1:7435 berth release sandbox/job-42 --api-token-file /run/secrets/berth",
      what: "the same, naming the controller and the token file",
    },
  ]).action(async (target: string, opts: ApiOptions) => {
    const [pool, claim, ...rest] = target.split("/");
    if (pool === undefined || claim === undefined || rest.length > 0 || pool === "" || claim === "")
      throw BerthError.usage(`${target}: write POOL/CLAIM`);
    const res = await callApi(
      opts,
      io,
      "DELETE",
      `/v1/pools/${encodeURIComponent(pool)}/claims/${encodeURIComponent(claim)}`,
    );
    if (res.status !== 200) {
      io.err(`berth: release of ${printable(target)} refused (${res.status}): ${printable(text(res.body.error))}\n`);
      setExit(EXIT.failed);
      return;
    }
    io.out(`released ${printable(target)}\n`);
    setExit(EXIT.ok);
  });
}
