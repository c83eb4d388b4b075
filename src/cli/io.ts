import { isatty } from "node:tty";

/** Where a command writes: process streams in the CLI, buffers in tests. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  /** Standard error is a terminal (apply's live progress); absent: it is not. */
  readonly errIsTTY?: boolean;
  /** Standard error's width in columns, when it is a terminal. */
  readonly errColumns?: () => number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * This build's cache folder (cli/code-cache.ts): short commands keep their verdicts on spec
   * files there (manifest/verdicts.ts). Absent: no caches (tests, NODE_DISABLE_COMPILE_CACHE).
   */
  readonly cacheDir?: string;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: isatty(1),
  errIsTTY: isatty(2),
  errColumns: () => process.stderr.columns,
  env: process.env,
  cwd: process.cwd(),
};

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** Errors found (validate), a failed spec (apply), or a failed command. */
  failed: 1,
  /** `berth plan`: changes are pending. */
  changes: 2,
} as const;

/** What a command module is handed: where to write, and how to set the exit code. */
export interface CommandContext {
  readonly io: CliIO;
  readonly setExit: (code: number) => void;
}
