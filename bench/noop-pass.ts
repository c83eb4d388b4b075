/**
 * One part of `npm run bench`, in a process of its own as `berth run` is (not in the bench's, whose
 * heap by then holds every earlier section's data): with N containers converged, the warm no-op
 * pass of the build in dist/ — Docker calls by kind, wall and CPU time, median of 7 — and the
 * engine alone answering the same two list calls through dockerode. Prints one JSON line.
 *
 *   tsx bench/noop-pass.ts ID SPEC_DIR
 */
import Docker from "dockerode";
import type * as AppModule from "../src/app.js";
import type * as ConfigModule from "../src/config.js";
import type * as LogModule from "../src/util/log.js";
import { dist, median } from "./support.js";

const { createApp } = await dist<typeof AppModule>("app.js");
const { buildConfig } = await dist<typeof ConfigModule>("config.js");
const { silentLogger } = await dist<typeof LogModule>("util/log.js");

const [id, dir] = process.argv.slice(2);
if (!id || !dir) throw new Error("usage: tsx bench/noop-pass.ts ID SPEC_DIR");
let calls: Record<string, number> = {};
const app = createApp(buildConfig({ id, specs: [dir], listen: "off" }), {
  log: silentLogger(),
  hooks: {
    onDockerCall: (operation) => {
      calls[operation] = (calls[operation] ?? 0) + 1;
    },
  },
});
// Warm, as the passes of a running controller are: the file cache, the JIT.
for (let i = 0; i < 3; i++) await app.reconciler.pass({ reload: true });
const walls: number[] = [];
const cpus: number[] = [];
let counted: Record<string, number> = {};
for (let i = 0; i < 7; i++) {
  calls = {};
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await app.reconciler.pass({ reload: true });
  walls.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  cpus.push((used.user + used.system) / 1000);
  if (result.plan.actions.length > 0) throw new Error(`not converged: ${result.plan.actions.length} actions`);
  counted = calls;
}
const docker = new Docker();
const filters = { label: [`berth.controller=${id}`] };
const floors: number[] = [];
for (let i = 0; i < 8; i++) {
  const started = performance.now();
  await Promise.all([docker.listContainers({ all: true, filters }), docker.listImages()]);
  if (i > 0) floors.push(performance.now() - started);
}
console.log(JSON.stringify({ calls: counted, wallMs: median(walls), cpuMs: median(cpus), floorMs: median(floors) }));
