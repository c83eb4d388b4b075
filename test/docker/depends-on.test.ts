/**
 * dependsOn (docs/design.md, "Start order") against the real engine through the built CLI: `berth
 * plan` says the dependent waits, and one `berth apply` creates the dependency, waits for its
 * healthcheck to pass, and only then creates the dependent — whose container the engine made after
 * the dependency could first pass it.
 */
import { describe, expect, it } from "vitest";
import { berth, docker, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import { specText } from "../support/specs.js";

const id = testIds();

describe("dependsOn", () => {
  it("creates a dependent only once its dependency is healthy, in one apply", async () => {
    const ID = id("depends-on");
    const [db, web] = [`${ID}-db`, `${ID}-web`];
    const dir = specDir({
      "db.yaml": specText(db, {
        image: TEST_IMAGE,
        extra: [
          'command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]',
          "init: true",
          "stopTimeout: 1s",
          'healthcheck: { command: ["test", "-f", "/tmp/ready"], interval: 300ms, timeout: 1s, retries: 30 }',
        ],
      }),
      "web.yaml": specText(web, {
        image: TEST_IMAGE,
        extra: [
          'command: ["sleep", "3600"]',
          "init: true",
          "stopTimeout: 1s",
          `dependsOn: [{ name: ${db}, condition: Healthy }]`,
        ],
      }),
    });
    const common = ["--id", ID, "--specs", dir];

    const plan = await berth(["plan", ...common]);
    expect(plan.stdout).toContain(`create  ${db}: not found\n`);
    expect(plan.stdout).toContain(
      `! ${web}: waits for ${db} Healthy (0 of 1 container(s) of ${db} healthy) (Pending)\n`,
    );

    const apply = await berth(["apply", ...common, "--timeout", "60s"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const createdDb = apply.stdout.indexOf(`create  ${db}`);
    const createdWeb = apply.stdout.indexOf(`create  ${web}`);
    expect(createdDb).toBeGreaterThanOrEqual(0);
    expect(createdWeb).toBeGreaterThan(createdDb);

    // db cannot pass its check before the 2 s its command sleeps: web was made after that.
    const dbInfo = await docker.getContainer(db).inspect();
    const webInfo = await docker.getContainer(web).inspect();
    expect(dbInfo.State.Health?.Status).toBe("healthy");
    expect(Date.parse(webInfo.Created)).toBeGreaterThan(Date.parse(dbInfo.State.StartedAt) + 2_000);
  });

  it("a dependency with no spec fails apply at once, saying which, and makes nothing", async () => {
    const ID = id("depends-missing");
    const web = `${ID}-web`;
    const dir = specDir({
      "web.yaml": specText(web, {
        image: TEST_IMAGE,
        extra: ['command: ["sleep", "3600"]', `dependsOn: [{ name: ${ID}-cache }]`],
      }),
    });
    const apply = await berth(["apply", "--id", ID, "--specs", dir, "--timeout", "60s"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toMatch(
      new RegExp(`^${web} +Failed +0/1 .* waits for ${ID}-cache Started \\(no spec named ${ID}-cache\\)$`, "m"),
    );
    expect(apply.stdout).toContain("not converged: 1 spec(s) failed, 0 change(s) left\n");
    expect(await docker.listContainers({ all: true, filters: { name: [web] } })).toEqual([]);
  });
});
