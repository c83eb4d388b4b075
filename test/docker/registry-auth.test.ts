/**
 * Pulls from a registry that wants credentials: Debian's docker-registry on loopback with
 * htpasswd auth (one user, a password made for this run). An image made for this run is pushed
 * with the user's credentials and removed locally; `berth apply` then pulls it with credentials
 * from a Docker config.json (DOCKER_CONFIG), from --registry-auth-file (imagePullSecret choosing
 * the entry), and from a credential helper; wrong credentials give the actionable message; a
 * build FROM the image gets the same credentials (X-Registry-Config). The
 * password is looked for in every output, the status, the containers' labels and inspect.
 */
import { randomUUID } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { berth, containersOf, docker, e2eSpec, removeImage, specDir, TEST_IMAGE, testIds } from "../support/e2e.js";
import {
  labelledImage,
  type LocalRegistry,
  localImageId,
  pushAs,
  registryBinary,
  type RegistryUser,
  startRegistry,
} from "../support/registry.js";
import { specText } from "../support/specs.js";
import { tempDir } from "../support/tmp.js";

const id = testIds();
const user: RegistryUser = { username: "berth", password: `pw-${randomUUID()}` };
const wrongPassword = `wrong-${randomUUID()}`;
let registry: LocalRegistry | undefined;
let ref = "";
let imageId = "";
/** Images made by a test (besides imageId), removed after the file. */
const made: string[] = [];

const b64 = (text: string): string => Buffer.from(text).toString("base64");

/** Starts the registry and pushes this run's image at the first test that needs them. */
async function theImage(): Promise<void> {
  if (registry) return;
  const binary = registryBinary();
  if (binary === null)
    throw new Error("docker-registry is not installed: run `bash scripts/ensure-docker.sh` (it apt-get installs it)");
  registry = await startRegistry(binary, user);
  ref = `${registry.host}/berth-test/private:auth-${process.pid}`;
  const builder = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"] });
  try {
    const image = (await builder.commit({ changes: `LABEL org.berth-test.image=auth-${process.pid}` })) as {
      Id: string;
    };
    imageId = image.Id;
  } finally {
    await builder.remove({ force: true });
  }
  await pushAs(docker, imageId, ref, user);
  // The reference was the image's one tag: only the registry has it now.
  await docker.getImage(ref).remove();
  expect(await localImageId(docker, ref)).toBeNull();
}

/** Only the registry has the image: every test pulls it. */
afterEach(async () => {
  if (ref !== "") await removeImage(ref);
});

afterAll(async () => {
  for (const image of [...made, imageId]) if (image !== "") await removeImage(image);
  await registry?.stop();
});

/** The test image with a label naming it: an image ID of this run's own. */
async function newImage(name: string): Promise<string> {
  const image = await labelledImage(docker, TEST_IMAGE, `${name}-${process.pid}`);
  made.push(image);
  return image;
}

/** Pushes `image` as `tag` and returns the digest the registry now serves for it; the local tag is removed. */
async function publish(image: string, tag: string): Promise<string> {
  await pushAs(docker, image, tag, user);
  const repository = tag.slice(0, tag.lastIndexOf(":"));
  const info = await docker.getImage(tag).inspect();
  const digest = info.RepoDigests.find((d) => d.startsWith(`${repository}@`))?.slice(repository.length + 1);
  if (digest === undefined) throw new Error(`no digest for ${tag} after the push`);
  await docker.getImage(tag).remove({ noprune: true });
  return digest;
}

const short = (digest: string): string => `${digest.slice(0, 19)}…`;

function spec(name: string, extra = ""): string {
  return e2eSpec(name).replace(`image: ${TEST_IMAGE}`, `image: ${ref}\n  imagePullPolicy: IfNotPresent${extra}`);
}

/** A folder with a config.json in Docker's format. */
function dockerConfig(content: object): string {
  const dir = tempDir("berth-docker-config-");
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(content));
  return dir;
}

/** Everything berth and the engine say about a controller's containers: status, labels, inspect. */
async function everythingShown(controller: string, specs: string, env: Record<string, string>): Promise<string> {
  const status = await berth(["status", "-o", "json", "--id", controller, "--specs", specs], env);
  const inspected = await Promise.all(
    (await containersOf(controller)).map(async (c) => JSON.stringify(await docker.getContainer(c.id).inspect())),
  );
  return [status.stdout, status.stderr, ...inspected].join("\n");
}

function expectNoCredential(text: string, password: string): void {
  expect(text).not.toContain(password);
  expect(text).not.toContain(b64(`${user.username}:${password}`));
}

describe("registry credentials", () => {
  it("pulls with the auths entry of Docker's config.json (DOCKER_CONFIG); the password is shown nowhere", async () => {
    await theImage();
    const c = id("auth-config");
    const name = `${c}-app`;
    const specs = specDir({ "app.yaml": spec(name) });
    const env = {
      DOCKER_CONFIG: dockerConfig({
        auths: { [`http://${registry?.host}`]: { auth: b64(`${user.username}:${user.password}`) } },
      }),
      BERTH_LOG_LEVEL: "debug",
    };
    const result = await berth(["apply", "--id", c, "--specs", specs], env);
    expect(result.stdout).toMatch(new RegExp(`^ok create  ${name}: not found \\(`, "m"));
    expect(result.code).toBe(0);
    expect(await localImageId(docker, ref)).toBe(imageId);
    expect((await containersOf(c)).map((x) => [x.name, x.state])).toEqual([[name, "running"]]);
    expectNoCredential(`${result.stdout}${result.stderr}${await everythingShown(c, specs, env)}`, user.password);
  });

  it("pulls with --registry-auth-file, where imagePullSecret picks the entry; the file must lie in an allowed secret folder", async () => {
    await theImage();
    const c = id("auth-file");
    const name = `${c}-app`;
    const secrets = tempDir("berth-registry-secrets-");
    const file = path.join(secrets, "registry-auth.json");
    // Chosen by the registry alone, the bare host's entry (wrong) would answer; the spec names the right one.
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          [registry?.host ?? ""]: { auth: b64(`${user.username}:${wrongPassword}`) },
          [`${registry?.host}/team-b`]: { username: user.username, password: user.password },
        },
      }),
    );
    const env = { DOCKER_CONFIG: tempDir("berth-docker-config-") };
    const specs = specDir({ "app.yaml": spec(name, `\n  imagePullSecret: ${registry?.host}/team-b`) });

    const outside = await berth(
      ["apply", "--id", c, "--specs", specs, "--registry-auth-file", file, "--timeout", "1m"],
      env,
    );
    // A usage error at start, as any bad flag: nothing is pulled or created.
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain(
      `berth: --registry-auth-file: ${file} is not under an allowed secret folder (/run/secrets); allow it with --allow-secret-dir`,
    );
    expect(await containersOf(c)).toEqual([]);

    const args = ["apply", "--id", c, "--specs", specs, "--registry-auth-file", file, "--allow-secret-dir", secrets];
    const result = await berth(args, env);
    expect(result.stdout).toMatch(new RegExp(`^ok create  ${name}: not found \\(`, "m"));
    expect(result.code).toBe(0);
    expect(await localImageId(docker, ref)).toBe(imageId);
    expectNoCredential(`${outside.stdout}${outside.stderr}${result.stdout}${result.stderr}`, user.password);
    expectNoCredential(await everythingShown(c, specs, env), user.password);
  });

  it("asks a credential helper (credsStore) with the registry on its standard input", async () => {
    await theImage();
    const c = id("auth-helper");
    const name = `${c}-app`;
    const bin = tempDir("berth-helper-bin-");
    const asked = path.join(bin, "asked");
    const helper = path.join(bin, "docker-credential-berthtest");
    writeFileSync(
      helper,
      [
        "#!/bin/sh",
        `[ "$1" = get ] || exit 2`,
        `cat > ${asked}`,
        `printf '{"ServerURL":"%s","Username":"${user.username}","Secret":"${user.password}"}' "$(cat ${asked})"`,
        "",
      ].join("\n"),
    );
    chmodSync(helper, 0o755);
    const env = {
      DOCKER_CONFIG: dockerConfig({ credsStore: "berthtest" }),
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    };
    const specs = specDir({ "app.yaml": spec(name) });
    const result = await berth(["apply", "--id", c, "--specs", specs], env);
    expect(result.stdout).toMatch(new RegExp(`^ok create  ${name}: not found \\(`, "m"));
    expect(result.code).toBe(0);
    expect(await localImageId(docker, ref)).toBe(imageId);
    expect(readFileSync(asked, "utf8")).toBe(`${registry?.host}\n`);
    expectNoCredential(`${result.stdout}${result.stderr}`, user.password);
  });

  it("wrong or missing credentials: the message names the registry and where berth looked, and never the password", async () => {
    await theImage();
    const c = id("auth-wrong");
    const name = `${c}-app`;
    const specs = specDir({ "app.yaml": spec(name) });
    const config = dockerConfig({
      auths: { [registry?.host ?? ""]: { auth: b64(`${user.username}:${wrongPassword}`) } },
    });
    const wrong = await berth(["apply", "--id", c, "--specs", specs], { DOCKER_CONFIG: config });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(`the registry ${registry?.host} refused the pull of ${ref}`);
    expect(wrong.stdout).toContain(
      `berth sent the credentials of auths["${registry?.host}"] of ${path.join(config, "config.json")}: check them (docker login ${registry?.host})`,
    );
    expectNoCredential(`${wrong.stdout}${wrong.stderr}`, wrongPassword);

    const empty = tempDir("berth-docker-config-");
    const none = await berth(["apply", "--id", c, "--specs", specs], { DOCKER_CONFIG: empty });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(
      `berth found no credentials for ${registry?.host} (berth looked in ${path.join(empty, "config.json")}): run docker login ${registry?.host}`,
    );
    expect(await containersOf(c)).toEqual([]);
  });
});

describe("builds FROM a private image", () => {
  it("sends the credentials berth finds for the FROM image's registry (X-Registry-Config); the password is shown nowhere", async () => {
    await theImage();
    const c = id("auth-build");
    const specs = specDir({
      "web.yaml": specText("web", {
        image: null,
        extra: ["build:", "  context: ./app", 'command: ["sleep", "infinity"]', "init: true", "stopTimeout: 2s"],
      }),
      // Through a global ARG, as a Dockerfile often names its base.
      "app/Dockerfile": `ARG BASE=${ref}\nFROM \${BASE}\nLABEL org.berth-test.built-from=private\n`,
    });
    const removeBuilds = async (): Promise<void> => {
      const images = await docker.listImages({ filters: { label: [`berth.built_by=${c}`] } });
      for (const image of images) await removeImage(image.Id);
    };
    try {
      // No credentials: the engine's own refusal, as `docker build` without a login.
      const empty = { DOCKER_CONFIG: tempDir("berth-docker-config-") };
      const none = await berth(["apply", "--id", c, "--specs", specs, "--timeout", "1m"], empty);
      expect(none.code).toBe(1);
      expect(none.stdout).toMatch(/building image berth\.local\/web:[0-9a-f]{12} for web failed/);
      expect(none.stdout).toMatch(/no basic auth credentials|unauthorized|authentication required/);
      expect(await containersOf(c)).toEqual([]);

      const env = {
        DOCKER_CONFIG: dockerConfig({
          auths: { [registry?.host ?? ""]: { auth: b64(`${user.username}:${user.password}`) } },
        }),
        BERTH_LOG_LEVEL: "debug",
      };
      const result = await berth(["apply", "--id", c, "--specs", specs, "--timeout", "1m"], env);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(/create +web: not found/);
      const [container, ...more] = await containersOf(c);
      expect(more).toEqual([]);
      const details = await docker.getContainer(container?.id ?? "").inspect();
      expect(details.Config.Image).toMatch(/^berth\.local\/web:[0-9a-f]{12}$/);
      // Built on the pushed image: its label and the build's own.
      const image = await docker.getImage(details.Image).inspect();
      expect(image.Config.Labels).toMatchObject({
        "org.berth-test.image": `auth-${process.pid}`,
        "org.berth-test.built-from": "private",
      });
      const history = await docker.getImage(details.Image).history();
      expectNoCredential(
        [
          none.stdout,
          none.stderr,
          result.stdout,
          result.stderr,
          JSON.stringify(image),
          JSON.stringify(history),
          await everythingShown(c, specs, env),
        ].join("\n"),
        user.password,
      );
    } finally {
      await removeBuilds();
    }
  });
});

describe("tag updates by digest (imagePullPolicy: Always)", () => {
  it("replaces when the tag's digest moved, never when it did not, and honours a digest pin", async () => {
    await theImage();
    const c = id("digest");
    const follow = `${c}-follow`;
    const pinned = `${c}-pinned`;
    const tag = `${registry?.host}/berth-test/follow:e2e-${process.pid}`;
    const v1 = await newImage("follow-v1");
    const d1 = await publish(v1, tag);
    const env = {
      DOCKER_CONFIG: dockerConfig({
        auths: { [registry?.host ?? ""]: { auth: b64(`${user.username}:${user.password}`) } },
      }),
    };
    const specs = specDir({
      "follow.yaml": e2eSpec(follow).replace(`image: ${TEST_IMAGE}`, `image: ${tag}\n  imagePullPolicy: Always`),
      "pinned.yaml": e2eSpec(pinned).replace(
        `image: ${TEST_IMAGE}`,
        `image: ${tag.slice(0, tag.lastIndexOf(":"))}@${d1}\n  imagePullPolicy: Always`,
      ),
    });
    const apply = (): ReturnType<typeof berth> => berth(["apply", "--id", c, "--specs", specs, "--timeout", "1m"], env);

    const first = await apply();
    expect(first.code).toBe(0);
    const before = await containersOf(c);
    expect(before.map((x) => [x.name, x.labels["berth.image_digest"]])).toEqual([
      [follow, d1],
      [pinned, undefined],
    ]);

    // The registry still serves d1: nothing is replaced.
    const again = await apply();
    expect([again.code, again.stdout]).toEqual([0, expect.not.stringMatching(/^ok replace/m) as unknown]);
    expect((await containersOf(c)).map((x) => x.id)).toEqual(before.map((x) => x.id));

    // A new image under the same tag: plan says so with both digests, apply replaces.
    const v2 = await newImage("follow-v2");
    const d2 = await publish(v2, tag);
    expect(d2).not.toBe(d1);
    const plan = await berth(["plan", "--id", c, "--specs", specs], env);
    expect(plan.stdout).toMatch(
      new RegExp(
        `^replace ${follow} \\[[0-9a-f]{12}\\] StartFirst: image updated \\(image ${short(d1)} → ${short(d2)}\\)$`,
        "m",
      ),
    );
    expect(plan.stdout).not.toContain(`replace ${pinned}`);
    expect(plan.code).toBe(2);

    const moved = await apply();
    expect(moved.stdout).toMatch(new RegExp(`^ok replace ${follow} \\[[0-9a-f]{12}\\] StartFirst: image updated`, "m"));
    expect(moved.code).toBe(0);
    const after = await containersOf(c);
    expect(after.map((x) => [x.name, x.labels["berth.image_digest"]])).toEqual([
      [follow, d2],
      [pinned, undefined],
    ]);
    expect(after[1]?.id).toBe(before[1]?.id);
    const runsFrom = async (containerId: string): Promise<string> =>
      (await docker.getContainer(containerId).inspect()).Image;
    expect(await runsFrom(after[0]?.id ?? "")).toBe(v2);
    expect(await runsFrom(after[1]?.id ?? "")).toBe(v1);
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
  });
});
