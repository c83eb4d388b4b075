/**
 * A controller is a long-lived process whose memory is mostly what it keeps, not what it churns.
 * V8 doubles its young generation (up to 2 × 16 MiB) whenever a burst of allocation survives, as
 * loading its modules and thousands of spec files does, and keeps it: 30 MiB of the RSS of
 * `berth run` at 5 000 specs. Stopping that growth keeps the young generation at 2 MiB, at no
 * measurable cost to a pass (docs/benchmarks.md). It is a runtime flag V8 reads each time it
 * would grow, so it works however node was started: bin/berth.js sets it for `berth run` before
 * any other module loads. One-shot commands keep V8's default.
 */
import { setFlagsFromString } from "node:v8";

export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
