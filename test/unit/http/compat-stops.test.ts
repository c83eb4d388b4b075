/**
 * A second stop of one agent (docker-spawner's POST /stop) or delete of one container (Artie's
 * DELETE /api/containers/:id) while the first still waits for the container to go: it waits for
 * that same stop and answers as it does, never a 404 naming the runtime folder
 * (src/http/routes/spawner-compat.ts, artie-compat.ts). The engine is the test server's list,
 * which the test empties when the container "goes".
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ObservedContainer } from "../../../src/core/observed.js";
import { ARTIE_NAME_LABEL } from "../../../src/http/routes/artie-compat.js";
import { agent, BEARER, managed, testServer } from "../../support/http-server.js";

/** The agent's spec, as /spawn writes it (only the file's presence matters to a stop). */
const agentSpecText = (name: string): string =>
  `apiVersion: berth/v1\nkind: Container\nmetadata: { name: ${name}, labels: { com.tidepool.role: agent } }\nspec: { image: busybox }\n`;

/** Empties the engine's list after `ms`: the container is gone. */
function goneAfter(list: ObservedContainer[], ms: number): void {
  setTimeout(() => list.splice(0), ms);
}

describe("docker-spawner: a second /stop while the first waits", () => {
  it("waits for the same stop and answers 200 as it does, naming no folder", async () => {
    const name = "tidepool-agent-s9";
    const containers = [agent(name)];
    const s = testServer({ compat: true, token: null, containers });
    writeFileSync(path.join(s.dir, `${name}.yaml`), agentSpecText(name));
    goneAfter(containers, 100);
    const [first, second] = await Promise.all([
      s.app.inject({ method: "POST", url: `/stop/${name}` }),
      s.app.inject({ method: "POST", url: `/stop/${name}` }),
    ]);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.body).toBe(first.body);
    // Once it is gone, nothing is there: the documented 404.
    const third = await s.app.inject({ method: "POST", url: `/stop/${name}` });
    expect([third.statusCode, third.json()]).toEqual([404, { error: `no agent ${name}: nothing was stopped` }]);
  });

  it("a stop of an agent whose spec is gone already waits for its container, not a 404 with the folder", async () => {
    const name = "tidepool-agent-s8";
    const containers = [agent(name)];
    const s = testServer({ compat: true, token: null, containers });
    goneAfter(containers, 100);
    const res = await s.app.inject({ method: "POST", url: `/stop/${name}` });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(s.dir);
  });
});

describe("Artie: a second DELETE while the first waits", () => {
  it("waits for the same delete and answers as it does, naming no folder", async () => {
    const spec = "artie-del2-f1eabc";
    const made = managed(spec, spec, { [ARTIE_NAME_LABEL]: "del2" });
    const containers = [made];
    const s = testServer({ artie: true, containers });
    writeFileSync(path.join(s.dir, `${spec}.yaml`), "# the spec (only its presence matters to a delete)\n");
    goneAfter(containers, 100);
    const del = () => s.app.inject({ method: "DELETE", url: `/api/containers/${spec}`, headers: BEARER });
    const [first, second] = await Promise.all([del(), del()]);
    const id = made.id.slice(0, 12);
    expect([first.statusCode, first.json()]).toEqual([200, { success: true, id }]);
    expect([second.statusCode, second.json()]).toEqual([200, { success: true, id }]);
    expect(second.body).not.toContain(s.dir);
  });
});
