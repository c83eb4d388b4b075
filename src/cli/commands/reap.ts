/** `berth reap [--dry-run]`: remove expired containers now, ours and (with --reap-label) others'. */
import { createApp } from "../../app.js";
import type { RawOptions } from "../../config.js";
import { renderAction } from "../../core/plan/render.js";
import { EXIT, type CliIO } from "../io.js";
import { setup } from "../setup.js";

export async function reapCommand(raw: RawOptions & { dryRun?: boolean }, io: CliIO): Promise<number> {
  const { config, log } = setup(raw, { level: "warn", fd: 2 });
  const app = createApp(config, { log });
  const result = await app.reconciler.pass({ reload: true, execute: false });
  const expired = result.plan.actions.filter(
    (a): a is Extract<typeof a, { kind: "remove" }> => a.kind === "remove" && a.reason === "expired",
  );
  const sweep = await app.reaper.sweep(Date.now(), true);
  const verb = raw.dryRun ? "would remove" : "removed";
  let failures = 0;
  for (const action of expired) {
    if (!raw.dryRun) {
      try {
        await app.port.removeContainer(action.container.id, { force: true });
      } catch (err) {
        failures++;
        io.err(`${renderAction(action)}: ${(err as Error).message}\n`);
        continue;
      }
    }
    io.out(`${verb} ${renderAction(action).replace(/^remove\s+/, "")}\n`);
  }
  const others = raw.dryRun ? sweep : await app.reaper.sweep(Date.now());
  const reaped = raw.dryRun ? others.expired : others.removed;
  failures += others.expired.length - reaped.length;
  for (const c of reaped) io.out(`${verb} ${c.name} [${c.id.slice(0, 12)}]: ${c.label}=${c.value}\n`);
  const total = expired.length + reaped.length;
  io.out(`${total} expired container${total === 1 ? "" : "s"} ${raw.dryRun ? "found" : "removed"}\n`);
  return failures > 0 ? EXIT.failed : EXIT.ok;
}
