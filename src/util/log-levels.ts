/**
 * The logger's levels and formats, apart from the logger (log.ts) so that the options and the
 * configuration can name them without loading pino: `berth validate` never logs.
 */
export type LogFormat = "json" | "pretty" | "auto";
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
