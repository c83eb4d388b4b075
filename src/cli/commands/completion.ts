/** `berth completion bash|zsh|fish`: the shell completion script, from the command definitions. */
import { type Command, Argument } from "commander";
import { completionScript, type Shell, SHELLS } from "../completion.js";
import { type CommandContext, EXIT } from "../io.js";
import { addExamples } from "../options.js";

export function register(program: Command, { io, setExit }: CommandContext): void {
  const command = program
    .command("completion")
    .description("Print the shell completion script for bash, zsh or fish.")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS));
  addExamples(command, [
    { command: "source <(berth completion bash)", what: "bash, this session (add it to ~/.bashrc to keep it)" },
    { command: 'berth completion zsh > "${fpath[1]}/_berth"', what: "zsh, from the next shell on" },
    { command: "berth completion fish > ~/.config/fish/completions/berth.fish", what: "fish" },
  ]).action((shell: Shell) => {
    io.out(completionScript(shell, program));
    setExit(EXIT.ok);
  });
}
