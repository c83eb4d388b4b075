/**
 * The periodic resync's timer: node-cron, loaded only when a resync is scheduled or a cron
 * expression is given (40 ms of every one-shot command otherwise).
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
