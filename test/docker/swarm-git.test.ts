/**
 * `berth run --target swarm --git` (docs/swarm.md, "Git sources"), end to end through the built
 * CLI, on a single-node swarm in a private dockerd (as swarm.test.ts: its own network namespace,
 * `swarm init --advertise-addr 127.0.0.1`; never the shared engine), from a bare repository on
 * this host (file://). The fetch interval is ten minutes: each new commit is fetched because a
 * signed webhook asked, and nothing else explains it.
 * - the first commit becomes a service whose replicas run, labelled with its revision;
 * - an unsigned or wrongly signed webhook is 401 and fetches nothing;
 * - a commit changing env is an update of the same service (a newer version, the new env in its
 *   tasks, the new revision on it), and the revision shows in /v1/specs, /v1/sources and status;
 * - a remote that cannot be fetched keeps the service and says why;
 * - a commit that breaks the file keeps the service as it was, and status names the file;
 * - a commit that deletes the file removes the service (under the default prune guard); SIGTERM
 *   ends run with 0.
 */
import { createHmac } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { berth, type RunningBerth, startBerth, TEST_IMAGE, testId } from "../support/e2e.js";
import { GitRemote } from "../support/git-remote.js";
import { pollValue } from "../support/poll.js";
import { privateSwarmPerFile, runningTaskEnvs, servicesOf } from "../support/private-swarm.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const swarmd = privateSwarmPerFile([TEST_IMAGE]);

const HOOK_SECRET = "swarm-git-hook-secret-0123456789";

interface SourceView {
  readonly revision: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastError: string | null;
  readonly failures: number;
  readonly invalidFiles: readonly string[];
  readonly brokenAt: string | null;
}

interface SpecsView {
  readonly specs?: { name: string; phase: string; running: number; desired: number }[];
  readonly sources?: SourceView[];
}

const services = (id: string) => servicesOf(swarmd().docker, id);

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;
const sources = async (b: RunningBerth): Promise<SourceView[]> =>
  (await getJson<{ sources: SourceView[] }>(`${b.url}/v1/sources`)).sources;

function hook(b: RunningBerth, headers: Record<string, string>, body = '{"ref":"refs/heads/main"}') {
  return fetch(`${b.url}/v1/hooks/git`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}
const signature = (body: string, secret = HOOK_SECRET): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A signed webhook: 202, and a fetch. */
async function push(b: RunningBerth): Promise<void> {
  const body = '{"ref":"refs/heads/main"}';
  const res = await hook(b, { "x-hub-signature-256": signature(body) }, body);
  expect(res.status, b.recentLogs()).toBe(202);
}

describe("berth run --target swarm --git", () => {
  it("keeps the swarm converged to the repository: commits, webhook, broken file, a fetch that fails, deletion", async () => {
    const id = testId("swarm-git");
    const web = `${id}-web`;
    const spec = (mode: string): string =>
      specText(web, {
        image: TEST_IMAGE,
        replicas: 2,
        extra: ['command: ["sleep", "3600"]', "stopTimeout: 1s", `env: { MODE: ${mode} }`],
      });
    const remote = new GitRemote();
    // keep.yaml (suspended: a service of no tasks) stays, so that removing web.yaml leaves a folder
    // with specs in it (an empty one pauses pruning) and is half of the services (the default guard).
    const keep = `${id}-keep`;
    const first = remote.commit("first", {
      "web.yaml": spec("one"),
      "keep.yaml": specText(keep, { image: TEST_IMAGE, extra: ["suspended: true"] }),
    });
    const secrets = tempDir("berth-swarm-git-");
    writeFileSync(path.join(secrets, "hook"), `${HOOK_SECRET}\n`);
    const env = { DOCKER_HOST: swarmd().dockerHost, BERTH_STATE_DIR: path.join(swarmd().dir, "state") };
    const b = await startBerth(
      [
        ...["--target", "swarm", "--id", id, "--resync", "1h"],
        ...["--git", remote.fileUrl, "--git-interval", "10m"],
        ...["--allow-secret-dir", secrets, "--git-webhook-secret-file", path.join(secrets, "hook")],
      ],
      env,
    );
    try {
      const explain = () => b.recentLogs();
      const specsAt = () => getJson<SpecsView>(`${b.url}/v1/specs`);
      const running = await pollValue(
        specsAt,
        (v) => v.specs?.some((s) => s.name === web && s.phase === "Running" && s.running === 2) ?? false,
        60_000,
        300,
      );
      expect(running.specs, explain()).toContainEqual(expect.objectContaining({ name: web, running: 2, desired: 2 }));
      expect(running.sources?.[0]?.revision).toBe(first);
      const made = (await services(id)).find((s) => s.Spec.Name === web);
      expect(made?.Spec.Labels["berth.revision"]).toBe(first);
      // The revision is the service's; the tasks' containers carry no berth.* label.
      expect(made?.Spec.TaskTemplate.ContainerSpec.Labels ?? {}).not.toHaveProperty("berth.revision");

      // Unsigned, or signed with another secret: 401, and nothing is fetched.
      const second = remote.commit("mode two", { "web.yaml": spec("two") });
      const attempted = (await sources(b))[0]?.lastAttemptAt;
      expect((await hook(b, {})).status).toBe(401);
      const body = '{"ref":"refs/heads/main"}';
      expect(
        (await hook(b, { "x-hub-signature-256": signature(body, "another-secret-0123456789") }, body)).status,
      ).toBe(401);
      expect((await sources(b))[0]).toMatchObject({ revision: first, lastAttemptAt: attempted });

      // Signed: fetched at once, and the service is updated in place to the new env.
      await push(b);
      const webService = async () => (await services(id)).filter((s) => s.Spec.Name === web);
      const updated = await pollValue(webService, (s) => s[0]?.Spec.Labels["berth.revision"] === second, 60_000, 300);
      expect(updated[0]?.ID, explain()).toBe(made?.ID);
      expect(updated[0]?.Version.Index).toBeGreaterThan(made?.Version.Index ?? Infinity);
      expect(updated[0]?.Spec.TaskTemplate.ContainerSpec.Env).toContain("MODE=two");
      const envs = await pollValue(
        () => runningTaskEnvs(swarmd().docker, web),
        (e) => e.length === 2 && e.every((v) => v.includes("MODE=two")),
        60_000,
        300,
      );
      expect(envs, explain()).toEqual([expect.arrayContaining(["MODE=two"]), expect.arrayContaining(["MODE=two"])]);
      expect((await specsAt()).sources?.[0]).toMatchObject({ revision: second, lastError: null });
      expect((await sources(b))[0]).toMatchObject({ revision: second });
      const status = await berth(["status", "--target", "swarm", "--id", id, "--server", b.url], env);
      expect(status.stdout, status.stderr).toMatch(
        new RegExp(`${second.slice(0, 12)} +\\S+ ago +mode two +\\S+ ago +ok`),
      );
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      expect(metrics).toMatch(/^berth_source_last_fetch_timestamp_seconds\{source="[^"]+"\} [1-9]/m);

      // The remote cannot be read: the service stays, and the source says why.
      const moved = `${remote.bare}.away`;
      renameSync(remote.bare, moved);
      await push(b);
      const failed = await pollValue(
        () => sources(b),
        (s) => (s[0]?.failures ?? 0) > 0,
        30_000,
        200,
      );
      expect(failed[0], explain()).toMatchObject({ revision: second, lastError: expect.stringMatching(/git fetch/) });
      expect(await (await fetch(`${b.url}/metrics`)).text()).toMatch(
        /^berth_source_fetch_failures_total\{source="[^"]+"\} 1$/m,
      );
      renameSync(moved, remote.bare);

      // A commit that breaks the file: the service keeps its last good version; status names the file.
      const broken = remote.commit("break web", {
        "web.yaml": "apiVersion: berth/v1\nkind: Container\nmetadata: {}\n",
      });
      await push(b);
      const invalid = await pollValue(
        () => sources(b),
        (s) => s[0]?.brokenAt === broken,
        30_000,
        200,
      );
      expect(invalid[0], explain()).toMatchObject({ revision: broken, invalidFiles: ["web.yaml"], lastError: null });
      const kept = await webService();
      expect(kept.map((s) => [s.ID, s.Spec.Labels["berth.revision"], s.Spec.Labels["berth.hash"]])).toEqual([
        [made?.ID, second, updated[0]?.Spec.Labels["berth.hash"]],
      ]);
      const live = await berth(["status", "--target", "swarm", "--id", id, "--server", b.url], env);
      expect(live.stdout).toContain(`invalid since ${broken.slice(0, 12)} (the last good versions run): web.yaml`);

      // A commit that deletes the file: the service goes.
      remote.commit("remove web", { "web.yaml": null });
      await push(b);
      const left = await pollValue(
        () => services(id),
        (s) => s.length === 1,
        60_000,
        300,
      );
      expect(
        left.map((s) => s.Spec.Name),
        explain(),
      ).toEqual([keep]);
    } finally {
      expect(await b.stop()).toBe(0);
    }
    expect(b.logs.some((l) => l.msg === "controller stopped")).toBe(true);
  }, 150_000);
});
