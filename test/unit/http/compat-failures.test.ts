/**
 * What a compat create that fails at once says (src/http/routes/spawner-compat.ts,
 * artie-compat.ts): what happened, not a wait it did not make nor a retry that will not come. The
 * reconcile passes are a status that reports every spec the create wrote with the failure.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { SpecStatus } from "../../../src/core/status.js";
import type { StatusSnapshot } from "../../../src/http/server.js";
import { BEARER, testServer } from "../../support/http-server.js";
import { specStatus } from "../../support/spec-status.js";

/** The last pass's status, reporting each spec file in `dir()` as `over` says. */
function failing(dir: () => string, over: Partial<SpecStatus>): StatusSnapshot {
  return {
    at: 0,
    get report() {
      const specs = readdirSync(dir()).map((f) => specStatus({ name: f.replace(/\.yaml$/, ""), ...over }));
      return { specs, orphans: [], notes: [] };
    },
  };
}

const json = { "content-type": "application/json" };

describe("docker-spawner: a spawn whose name another container holds", () => {
  it("answers 409 at once, naming the holder, without claiming it waited", async () => {
    const name = "tidepool-agent-x";
    const message = `${name}: the name ${name} is held by container [0123456789ab], which berth does not own; left untouched (Conflict)`;
    let dir = "";
    const s = testServer({
      compat: true,
      token: null,
      policyProfile: "privileged",
      status: failing(() => dir, { phase: "Conflict", message }),
    });
    dir = s.dir;
    const res = await s.app.inject({
      method: "POST",
      url: "/spawn",
      headers: json,
      payload: JSON.stringify({ bead_id: "x", worktree_path: "/srv/worktrees/x" }),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: `agent ${name} cannot start: ${message}; its spec was removed` });
    expect(readdirSync(s.dir)).toEqual([]);
  });
});

describe("Artie: a create whose image cannot be pulled", () => {
  it("answers 502 with the pull's message, without the executor's promise to retry", async () => {
    let dir = "";
    const s = testServer({
      artie: true,
      status: failing(() => dir, {
        lastErrorCode: "BERTH_PULL_FAILED",
        lastError:
          "pulling image nope:1 failed (manifest unknown); berth retries with backoff. If the image exists only on " +
          "this host, build it there (docker build -t nope:1 .) or set imagePullPolicy: Never",
      }),
    });
    dir = s.dir;
    const res = await s.app.inject({
      method: "POST",
      url: "/api/containers",
      headers: { ...BEARER, ...json },
      payload: JSON.stringify({ name: "p", image: "nope:1" }),
    });
    expect(res.statusCode).toBe(502);
    const error = res.json<{ error: string }>().error;
    expect(error).toMatch(/^container p cannot start \(pulling image nope:1 failed \(manifest unknown\)\. If /);
    expect(error).not.toContain("retries");
    expect(readdirSync(s.dir)).toEqual([]);
  });
});
