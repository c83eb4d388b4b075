/** Engine versions with a known defect (golden table), and the warning berth gives at start. */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { engineDefects, parseEngineVersion } from "../../../src/core/engine.js";
import { reportEngine } from "../../../src/ops/engine-report.js";
import { FakeDocker } from "../../support/fake-docker.js";

describe("engine versions", () => {
  it.each([
    ["20.10.24+dfsg1", [20, 10, 24], true],
    ["20.10.26", [20, 10, 26], true],
    ["20.10.27", [20, 10, 27], false],
    ["19.03.15", [19, 3, 15], true],
    ["1.13.1", [1, 13, 1], true],
    ["26.1.5+dfsg1", [26, 1, 5], false],
    ["28.2.2", [28, 2, 2], false],
    ["v23.0", [23, 0, 0], false],
    ["master-dockerproject-2026-01-01", null, false],
  ] as const)("%s", (version, parsed, deadlockProne) => {
    expect(parseEngineVersion(version)).toEqual(parsed);
    expect(engineDefects(version).map((d) => d.issue)).toEqual(deadlockProne ? ["moby/moby#46661"] : []);
  });
});

describe("reportEngine", () => {
  const logged = (): { lines: Record<string, unknown>[]; log: pino.Logger } => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { lines, log: pino({ level: "info" }, sink) };
  };

  it("warns once about an engine that can deadlock, naming the fix", async () => {
    const docker = new FakeDocker();
    docker.engineInfo = { version: "20.10.24+dfsg1", apiVersion: "1.41" };
    const { lines, log } = logged();
    expect(await reportEngine(docker, log)).toEqual(docker.engineInfo);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, "docker engine"],
      [40, "docker engine version has a known defect; upgrade it"],
    ]);
    expect(lines[1]).toMatchObject({ version: "20.10.24+dfsg1", issue: "moby/moby#46661", fixedIn: "20.10.27" });
  });

  it("only names a sound engine, and says nothing when Docker does not answer", async () => {
    const docker = new FakeDocker();
    const { lines, log } = logged();
    await reportEngine(docker, log);
    expect(lines.map((l) => l.msg)).toEqual(["docker engine"]);
    docker.fail({ operation: "version", kind: "unavailable" });
    expect(await reportEngine(docker, log)).toBeNull();
    expect(lines).toHaveLength(1);
  });
});
