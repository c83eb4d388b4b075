/**
 * The periodic resync's timers: a plain interval for a duration (`--resync 45s`), node-cron for a
 * schedule (`--resync "0 0 3 * * *"`). node-cron is loaded only when a cron expression is given
 * (40 ms of every one-shot command otherwise).
 */
import { createRequire } from "node:module";
import type nodeCronModule from "node-cron";

type NodeCron = typeof nodeCronModule;

const require = createRequire(import.meta.url);
const nodeCron = (): NodeCron => require("node-cron") as NodeCron;

/** True when node-cron accepts the expression. */
export function isValidCron(expression: string): boolean {
  return nodeCron().validate(expression);
}

export function scheduleCron(expression: string, tick: () => void): { stop(): void } {
  const task = nodeCron().schedule(expression, tick);
  return {
    stop: () => {
      void task.stop();
    },
  };
}

/** Every `ms` milliseconds from now, until stopped (as a cron task, it holds the process open). */
export function scheduleEvery(ms: number, tick: () => void): { stop(): void } {
  const timer = setInterval(tick, ms);
  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}
