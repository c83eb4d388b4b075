/**
 * GitOps pull (docs/gitops.md), against real git on loopback and the real engine: berth fetches a
 * repository served as file://, by git daemon and over smart HTTP with a token, converges to each
 * commit, follows a force push back, keeps the last good checkout when the remote is down or
 * refuses the credentials, and fetches at once on a signed webhook.
 */
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { berth, docker, e2eSpec, type RunningBerth, startBerth, testIds, waitContainers } from "../support/e2e.js";
import { GitRemote, gitDaemon, httpRemote, sshRemote } from "../support/git-remote.js";
import { pollUntil, pollValue } from "../support/poll.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
const running: RunningBerth[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

interface SourceView {
  readonly name: string;
  readonly revision: string | null;
  readonly subject: string | null;
  readonly lastError: string | null;
  readonly failures: number;
  readonly fetching: boolean;
  readonly invalidFiles: readonly string[];
  readonly brokenAt: string | null;
  readonly lastFetchAt: string | null;
}

async function sources(b: RunningBerth): Promise<SourceView[]> {
  const res = await fetch(`${b.url}/v1/sources`);
  return ((await res.json()) as { sources: SourceView[] }).sources;
}

async function start(controller: string, args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(["--id", controller, "--state-dir", tempDir("berth-state-"), "--resync", "1h", ...args]);
  running.push(b);
  return b;
}

const names = (cs: readonly { name: string }[]): string[] => cs.map((c) => c.name).sort();

describe("berth run --git", () => {
  it("file://: converges to each commit, reads only --git-path, takes 20 files at once, follows a force push back", async () => {
    const controller = id("git-file");
    const n = (s: string): string => `${controller}-${s}`;
    const remote = new GitRemote();
    const first = remote.commit("first", {
      "specs/a.yaml": e2eSpec(n("a")),
      "elsewhere/x.yaml": e2eSpec(n("x")),
      "README.md": "specs for the tests\n",
    });
    // The prune guard holds for Git sources too: removing 20 of 21 containers needs a share of 1.
    const b = await start(controller, [
      "--git",
      remote.fileUrl,
      "--git-path",
      "specs/",
      "--git-interval",
      "1s",
      "--prune-max-share",
      "1",
    ]);
    const explain = () => b.recentLogs();
    let seen = await waitContainers(controller, "a alone", (cs) => cs.length === 1 && cs[0]?.state === "running", {
      explain,
    });
    expect(names(seen)).toEqual([n("a")]);
    expect(seen[0]?.labels["berth.revision"]).toBe(first);
    const aId = seen[0]?.id;

    // A commit that changes no spec moves the revision, and replaces nothing.
    const docs = remote.commit("docs only", { "README.md": "more words\n" });
    const view = await pollValue(
      () => sources(b),
      (s) => s[0]?.revision === docs,
      30_000,
    );
    expect(view[0]).toMatchObject({ revision: docs, subject: "docs only", lastError: null });
    seen = await waitContainers(controller, "a unchanged", (cs) => cs.length === 1);
    expect(seen[0]?.id).toBe(aId);

    // A commit that breaks a.yaml: its last good version keeps running; status names that commit.
    const broken = remote.commit("break a", {
      "specs/a.yaml": "apiVersion: berth/v1\nkind: Container\nmetadata: {}\n",
    });
    const invalid = await pollValue(
      () => sources(b),
      (s) => s[0]?.brokenAt === broken,
      30_000,
    );
    expect(invalid[0]).toMatchObject({ revision: broken, invalidFiles: ["a.yaml"] });
    const status = await berth(["status", "--id", controller, "--server", b.url]);
    expect(status.stdout).toContain(`invalid since ${broken.slice(0, 12)} (the last good versions run): a.yaml`);
    expect(status.stdout).toMatch(new RegExp(`${broken.slice(0, 12)} +\\S+ ago +break a +\\S+ ago +ok`));
    const json = JSON.parse((await berth(["status", "--id", controller, "--server", b.url, "-o", "json"])).stdout) as {
      sources: SourceView[];
    };
    expect(json.sources[0]).toMatchObject({ revision: broken, subject: "break a", lastError: null });
    seen = await waitContainers(controller, "a unchanged", (cs) => cs.length === 1);
    expect(seen[0]?.id).toBe(aId);

    // Twenty new files in one commit: all of them, each labelled with that commit.
    const many: Record<string, string> = {};
    for (let i = 0; i < 20; i++) many[`specs/many/m${i}.yaml`] = e2eSpec(n(`m${i}`));
    const twenty = remote.commit("twenty at once", many);
    seen = await waitContainers(
      controller,
      "a and the twenty, running",
      (cs) => cs.length === 21 && cs.every((c) => c.state === "running"),
      { explain, timeoutMs: 120_000 },
    );
    expect(seen.filter((c) => c.name !== n("a")).every((c) => c.labels["berth.revision"] === twenty)).toBe(true);
    expect(seen.find((c) => c.name === n("a"))?.id).toBe(aId);
    expect(names(seen)).not.toContain(n("x"));

    // A force push back to the first commit: the twenty go, a stays.
    remote.forcePush(first);
    seen = await waitContainers(controller, "a alone again", (cs) => cs.length === 1, { explain, timeoutMs: 90_000 });
    expect(names(seen)).toEqual([n("a")]);
    expect(
      b.logs.some((l) => l.msg === "git source moved back to an earlier revision (force push or revert); following it"),
    ).toBe(true);
    expect((await sources(b))[0]?.revision).toBe(first);
  });

  it("git daemon: a remote that goes down keeps the last good checkout running, and says so", async () => {
    const controller = id("git-daemon");
    const remote = new GitRemote();
    const first = remote.commit("first", { "a.yaml": e2eSpec(`${controller}-a`) });
    const daemon = await gitDaemon(remote);
    const b = await start(controller, ["--git", daemon.url, "--git-interval", "1s"]);
    const [a] = await waitContainers(controller, "a running", (cs) => cs[0]?.state === "running", {
      explain: () => b.recentLogs(),
    });
    expect(a?.labels["berth.revision"]).toBe(first);

    await daemon.stop();
    remote.commit("while down", { "a.yaml": null });
    const view = await pollValue(
      () => sources(b),
      (s) => (s[0]?.failures ?? 0) > 0,
      30_000,
    );
    expect(view[0]).toMatchObject({ revision: first });
    expect(view[0]?.lastError).toMatch(/git fetch failed: .*(Connection refused|unable to connect)/i);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/berth_source_fetch_failures_total\{source="[^"]+"\} [1-9]/);
    expect(metrics).toMatch(/berth_source_last_fetch_timestamp_seconds\{source="[^"]+"\} \d/);
    // Still there, still running, though the commit that removed it exists (unreachable).
    const still = await docker.getContainer(a?.id ?? "").inspect();
    expect(still.State.Running).toBe(true);
  });

  it("smart HTTP with a token: a signed webhook fetches at once, an unsigned one is refused, a flood is bounded; the token shows nowhere", async () => {
    const controller = id("git-http");
    const n = (s: string): string => `${controller}-${s}`;
    const secrets = tempDir("berth-git-secrets-");
    const token = "git-token-0123456789abcdef";
    const hookSecret = "hook-secret-0123456789abcdef";
    writeFileSync(path.join(secrets, "token"), `${token}\n`);
    writeFileSync(path.join(secrets, "hook"), `${hookSecret}\n`);
    const remote = new GitRemote();
    remote.commit("first", { "a.yaml": e2eSpec(n("a")) });
    const server = await httpRemote(remote, token);
    const b = await start(controller, [
      "--git",
      server.url,
      "--git-interval",
      "10m",
      "--allow-secret-dir",
      secrets,
      "--git-token-file",
      path.join(secrets, "token"),
      "--git-webhook-secret-file",
      path.join(secrets, "hook"),
    ]);
    const explain = () => b.recentLogs();
    await waitContainers(controller, "a running", (cs) => cs.length === 1 && cs[0]?.state === "running", { explain });
    const second = remote.commit("add b", { "b.yaml": e2eSpec(n("b")) });
    const hook = (body: string, headers: Record<string, string>) =>
      fetch(`${b.url}/v1/hooks/git`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const body = JSON.stringify({ ref: "refs/heads/main", after: second });
    const sign = (text: string, secret = hookSecret) =>
      `sha256=${createHmac("sha256", secret).update(text).digest("hex")}`;

    // Unsigned, or signed with another secret: 401 and no fetch.
    const fetchesBefore = server.fetches;
    expect((await hook(body, {})).status).toBe(401);
    expect((await hook(body, { "x-hub-signature-256": sign(body, "not-the-secret-0123456789") })).status).toBe(401);
    expect((await hook(body, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect(server.fetches).toBe(fetchesBefore);

    // Signed: fetched at once (the interval is 10 minutes).
    const res = await hook(body, { "x-hub-signature-256": sign(body), "x-github-event": "push" });
    expect(res.status).toBe(202);
    await waitContainers(controller, "b too", (cs) => cs.length === 2 && cs.every((c) => c.state === "running"), {
      explain,
      timeoutMs: 30_000,
    });
    expect((await sources(b))[0]?.revision).toBe(second);

    // A flood: at most one fetch in flight and one queued at any moment.
    const beforeFlood = server.fetches;
    const floods = await Promise.all(
      Array.from({ length: 100 }, () => hook(body, { "x-hub-signature-256": sign(body) })),
    );
    expect(floods.every((r) => r.status === 202)).toBe(true);
    expect(await pollUntil(() => server.fetches > beforeFlood, 10_000)).toBe(true);
    const afterFlood = await pollValue(
      () => sources(b),
      (s) => s[0]?.fetching === false,
      30_000,
    );
    expect(afterFlood[0]?.lastError).toBeNull();
    expect(server.fetches - beforeFlood).toBeGreaterThanOrEqual(1);
    expect(server.fetches - beforeFlood).toBeLessThanOrEqual(3);

    // What berth sent was the token as a header; what it shows never holds it.
    expect(server.authorizations.filter((a) => a !== "")).toContain(`Bearer ${token}`);
    const events = await (await fetch(`${b.url}/v1/events`)).text();
    expect(events).toContain("revision");
    const inspected = await Promise.all(
      (await waitContainers(controller, "two", (cs) => cs.length === 2)).map((c) =>
        docker.getContainer(c.id).inspect(),
      ),
    );
    for (const text of [
      JSON.stringify(b.logs),
      b.stderr,
      events,
      JSON.stringify(inspected),
      JSON.stringify(await sources(b)),
    ])
      expect(text).not.toContain(token);
  });

  it("smart HTTP with a wrong token: nothing is applied, the failure is reported without the token", async () => {
    const controller = id("git-badtoken");
    const secrets = tempDir("berth-git-secrets-");
    const wrong = "wrong-token-0123456789abcdef";
    writeFileSync(path.join(secrets, "token"), wrong);
    const remote = new GitRemote();
    remote.commit("first", { "a.yaml": e2eSpec(`${controller}-a`) });
    const server = await httpRemote(remote, "right-token-0123456789abcdef");
    const b = await start(controller, [
      "--git",
      server.url,
      "--git-interval",
      "1s",
      "--allow-secret-dir",
      secrets,
      "--git-token-file",
      path.join(secrets, "token"),
    ]);
    const view = await pollValue(
      () => sources(b),
      (s) => (s[0]?.failures ?? 0) >= 2,
      30_000,
    );
    expect(view[0]).toMatchObject({ revision: null });
    expect(view[0]?.lastError).toMatch(/git fetch failed: .*(401|Authentication failed|could not read Username)/i);
    expect(server.refused).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(b.logs) + b.stderr + JSON.stringify(view)).not.toContain(wrong);
    const ready = await fetch(`${b.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await waitContainers(controller, "none", () => true)).length).toBe(0);
  });

  it("ssh: fetches with the key and known_hosts; a host key known_hosts does not name is refused", async () => {
    const controller = id("git-ssh");
    const secrets = tempDir("berth-git-secrets-");
    const remote = new GitRemote();
    const first = remote.commit("first", { "a.yaml": e2eSpec(`${controller}-a`) });
    const ssh = await sshRemote(remote, secrets);
    const common = ["--git", ssh.url, "--git-interval", "1s", "--allow-secret-dir", secrets];
    const b = await start(controller, [
      ...common,
      "--git-ssh-key-file",
      ssh.keyFile,
      "--git-known-hosts",
      ssh.knownHostsFile,
    ]);
    const [a] = await waitContainers(controller, "a running", (cs) => cs[0]?.state === "running", {
      explain: () => b.recentLogs(),
    });
    expect(a?.labels["berth.revision"]).toBe(first);
    await b.stop();
    running.splice(running.indexOf(b), 1);

    // Another controller id, the same remote, a known_hosts naming another key: refused, reported.
    const other = id("git-ssh-mitm");
    const m = await start(other, [
      ...common,
      "--git-ssh-key-file",
      ssh.keyFile,
      "--git-known-hosts",
      ssh.wrongKnownHostsFile,
    ]);
    const view = await pollValue(
      () => sources(m),
      (s) => (s[0]?.failures ?? 0) > 0,
      30_000,
    );
    expect(view[0]?.revision).toBeNull();
    expect(view[0]?.lastError).toMatch(/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i);
  });

  it("--git-ref pins a commit by its SHA: a later commit on the branch is not applied", async () => {
    const controller = id("git-pin");
    const remote = new GitRemote();
    const pinned = remote.commit("pinned", { "a.yaml": e2eSpec(`${controller}-a`) });
    remote.commit("later", { "b.yaml": e2eSpec(`${controller}-b`) });
    const daemon = await gitDaemon(remote);
    const b = await start(controller, ["--git", daemon.url, "--git-ref", pinned, "--git-interval", "1s"]);
    const [a] = await waitContainers(controller, "a running", (cs) => cs[0]?.state === "running", {
      explain: () => b.recentLogs(),
    });
    expect(a?.labels["berth.revision"]).toBe(pinned);
    // Fetched again since (the interval is 1 s), still the pin, and b never made.
    const before = (await sources(b))[0]?.lastFetchAt;
    const again = await pollValue(
      () => sources(b),
      (v) => v[0]?.lastFetchAt !== before,
      30_000,
    );
    expect(again[0]).toMatchObject({ revision: pinned, lastError: null });
    expect((await waitContainers(controller, "a alone", () => true)).map((c) => c.name)).toEqual([`${controller}-a`]);
    await daemon.stop();
  });
});
