/**
 * ops/apply.ts and plan's last line: a spec file that does not load names no spec, yet `berth
 * apply` has not done what the folder says (exit 1), and `berth plan` says so on its last line.
 */
import { afterEach, describe, expect, it } from "vitest";
import { renderPlanSummary } from "../../../src/core/plan/render.js";
import { applyOutcome, isConverged, notConverged } from "../../../src/ops/apply.js";
import { type Harness, harness } from "../../support/harness.js";
import { specText } from "../../support/specs.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("applyOutcome", () => {
  it("counts a file that does not load as a problem: not converged, though every spec that loads runs", async () => {
    h = await harness({
      "web.yaml": specText("web"),
      "broken.yaml": "apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: new\nspec:\n  image: [busybox\n",
      "empty.yaml": "",
    });
    await h.start();
    const last = h.passes.at(-1);
    if (!last) throw new Error("no pass");
    expect(h.status("web")?.phase).toBe("Running");
    const outcome = applyOutcome(last);
    expect(outcome).toEqual({ failed: 0, pending: 0, problems: 2 });
    expect(isConverged(outcome)).toBe(false);
    expect(notConverged(outcome)).toBe(
      "not converged: 0 spec(s) failed, 0 change(s) left, 2 problem(s) in the spec files (above)\n",
    );

    h.remove("broken.yaml");
    h.remove("empty.yaml");
    await h.changed();
    const fixed = h.passes.at(-1);
    if (!fixed) throw new Error("no pass");
    expect(applyOutcome(fixed)).toEqual({ failed: 0, pending: 0, problems: 0 });
    expect(isConverged(applyOutcome(fixed))).toBe(true);
  });
});

describe("renderPlanSummary", () => {
  it.each([
    [0, 0, "nothing to do\n"],
    [1, 0, "1 change pending\n"],
    [3, 0, "3 changes pending\n"],
    [0, 1, "nothing to do for the specs that load; 1 problem above\n"],
    [2, 3, "2 changes pending for the specs that load; 3 problems above\n"],
  ])("%i changes, %i problems", (changes, problems, line) => {
    expect(renderPlanSummary(changes, problems)).toBe(line);
  });

  it.each([
    [0, 0, 1, "nothing to do, and 1 spec waits for room (above)\n"],
    [2, 1, 3, "2 changes pending for the specs that load, and 3 specs wait for room; 1 problem above\n"],
  ])("%i changes, %i problems, %i waiting for room", (changes, problems, waiting, line) => {
    expect(renderPlanSummary(changes, problems, waiting)).toBe(line);
  });
});
