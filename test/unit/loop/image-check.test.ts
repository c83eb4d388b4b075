/**
 * When followed tags are asked for their digest (loop/image-check.ts), on the stateful fake of the
 * Docker port: once when first seen, again each --image-check interval, a failure keeping the last
 * answer and retried within a minute; pins and IfNotPresent are never asked.
 */
import { describe, expect, it, vi } from "vitest";
import type { NormalizedSpec } from "../../../src/core/spec.js";
import { ImageCheck } from "../../../src/loop/image-check.js";
import { silentLogger } from "../../../src/util/log.js";
import { FakeDocker } from "../../support/fake-docker.js";
import { desired } from "../../support/plan-fixtures.js";

const TAG = "registry.example/team/app:1";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

function spec(image: string, policy: string): NormalizedSpec {
  return desired("app", { image, extra: [`imagePullPolicy: ${policy}`] }).spec;
}

function setup(intervalMs: number | null): { docker: FakeDocker; check: ImageCheck } {
  const docker = new FakeDocker();
  docker.registryDigests.set(TAG, D1);
  return { docker, check: new ImageCheck(docker, null, silentLogger(), { intervalMs }) };
}

describe("ImageCheck", () => {
  it("asks a followed tag once per process without --image-check", async () => {
    const { docker, check } = setup(null);
    const specs = [spec(TAG, "Always")];
    expect(await check.digests(specs, 0)).toEqual(new Map([[TAG, D1]]));
    docker.registryDigests.set(TAG, D2);
    expect(await check.digests(specs, 3_600_000)).toEqual(new Map([[TAG, D1]]));
    expect(docker.count("distribution")).toBe(1);
  });

  it("asks again once the --image-check interval has passed", async () => {
    const { docker, check } = setup(600_000);
    const specs = [spec(TAG, "Always")];
    await check.digests(specs, 0);
    docker.registryDigests.set(TAG, D2);
    expect(await check.digests(specs, 599_999)).toEqual(new Map([[TAG, D1]]));
    expect(await check.digests(specs, 600_000)).toEqual(new Map([[TAG, D2]]));
    expect(docker.count("distribution")).toBe(2);
  });

  it("keeps the last digest when a check fails, and asks again within a minute", async () => {
    const { docker, check } = setup(600_000);
    const specs = [spec(TAG, "Always")];
    await check.digests(specs, 0);
    docker.registryDigests.delete(TAG);
    expect(await check.digests(specs, 600_000)).toEqual(new Map([[TAG, D1]]));
    docker.registryDigests.set(TAG, D2);
    expect(await check.digests(specs, 630_000)).toEqual(new Map([[TAG, D1]]));
    expect(await check.digests(specs, 660_000)).toEqual(new Map([[TAG, D2]]));
    expect(docker.count("distribution")).toBe(3);
  });

  it("never asks for IfNotPresent, Never or a digest pin", async () => {
    const { docker, check } = setup(1);
    const specs = [spec(TAG, "IfNotPresent"), spec(TAG, "Never"), spec(`registry.example/team/app@${D1}`, "Always")];
    expect(await check.digests(specs, 0)).toEqual(new Map());
    expect(docker.count("distribution")).toBe(0);
  });

  it("under answerLate, a registry that does not answer holds a pass up only so long; its answer asks for a pass and is used by the next", async () => {
    const { docker, check } = setup(null);
    const release = docker.hold(["distribution"]);
    let stopWaiting: () => void = () => undefined;
    let asked = 0;
    check.answerLate(
      2000,
      () =>
        new Promise<void>((resolve) => {
          stopWaiting = resolve;
        }),
      () => {
        asked++;
      },
    );
    const specs = [spec(TAG, "Always")];
    const first = check.digests(specs, 0);
    // The wait runs out before the registry answers: the pass goes on without the digest.
    await Promise.resolve();
    stopWaiting();
    expect(await first).toEqual(new Map());
    expect(asked).toBe(0);
    // A pass meanwhile joins the check under way rather than asking again.
    const second = check.digests(specs, 1);
    stopWaiting();
    expect(await second).toEqual(new Map());
    expect(docker.count("distribution")).toBe(1);
    // The answer comes: one pass is asked for, and it sees the digest without asking again.
    release();
    await vi.waitFor(() => {
      expect(asked).toBe(1);
    });
    expect(await check.digests(specs, 2)).toEqual(new Map([[TAG, D1]]));
    expect(docker.count("distribution")).toBe(1);
  });
});
