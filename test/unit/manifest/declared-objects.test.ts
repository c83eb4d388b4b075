/** `kind: Network` and `kind: Volume` documents: parsed beside containers, and declared once across files. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../../src/core/errors.js";
import { SpecLoader, validateLoad } from "../../../src/manifest/loader.js";
import { parseSpecText } from "../../../src/manifest/parse.js";
import { declared, withSpec } from "../../golden/invalid-cases.js";
import { tempDir } from "../../support/tmp.js";

describe("kind: Network and kind: Volume", () => {
  it("are parsed beside a container in one file, with their defaults", () => {
    const text = [declared("Network", "tidepool", "internal: true"), declared("Volume", "cache"), withSpec()].join(
      "---\n",
    );
    const result = parseSpecText(text, "all.yaml");
    expect(result.issues).toEqual([]);
    expect(result.documents.map((d) => d.spec.name)).toEqual(["web"]);
    expect(result.objects?.map((o) => [o.object, o.line, o.column])).toEqual([
      [
        {
          kind: "Network",
          name: "tidepool",
          labels: {},
          driver: "bridge",
          internal: true,
          attachable: false,
          options: {},
          subnet: null,
          enableIPv6: false,
          ipv6Subnet: null,
        },
        4,
        9,
      ],
      [{ kind: "Volume", name: "cache", labels: {}, driver: "local", options: {} }, 11, 9],
    ]);
  });

  it("refuses one declared twice across files, naming both places, and applies neither", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "sub"));
    writeFileSync(path.join(dir, "a.yaml"), declared("Network", "tidepool"));
    writeFileSync(
      path.join(dir, "sub", "b.yaml"),
      `${declared("Volume", "tidepool")}---\n${declared("Network", "tidepool")}`,
    );
    const load = await new SpecLoader([dir]).load();
    const checked = validateLoad(load, "baseline");
    expect(checked.issues.map((i) => formatIssue(i).replace(dir, "DIR").replace(dir, "DIR"))).toEqual([
      "DIR/a.yaml:4:9: metadata.name: network tidepool is also declared at DIR/sub/b.yaml:9:9; a network or volume may be declared once across all spec files (neither is applied)",
      "DIR/sub/b.yaml:9:9: metadata.name: network tidepool is also declared at DIR/a.yaml:4:9; a network or volume may be declared once across all spec files (neither is applied)",
    ]);
    // A volume and a network may share a name: they are different things to the engine.
    expect(checked.objects.map((o) => `${o.object.kind}/${o.object.name}`)).toEqual(["Volume/tidepool"]);
  });

  it("refuses an ipv6Subnet without enableIPv6, at the field", () => {
    const text = declared("Network", "v6", 'ipv6Subnet: "fd00:b17e::/64"');
    const result = parseSpecText(text, "net.yaml");
    expect(result.issues.map((i) => formatIssue(i))).toEqual([
      "net.yaml:6:15: spec.ipv6Subnet: applies only with enableIPv6: true",
    ]);
    const ok = parseSpecText(declared("Network", "v6", "enableIPv6: true", 'ipv6Subnet: "fd00:b17e::/64"'), "net.yaml");
    expect(ok.issues).toEqual([]);
    expect(ok.objects?.[0]?.object).toMatchObject({ enableIPv6: true, ipv6Subnet: "fd00:b17e::/64" });
  });

  it("refuses at validation an IPv4 subnet the engine would refuse, saying what would be valid", () => {
    const cases: [string, string | null][] = [
      ["10.231.8.0/24", null],
      ["0.0.0.0/0", null],
      ["192.168.1.7/32", null],
      ["172.20.0.0/14", null],
      [
        "10.231.8.5/24",
        "10.231.8.5/24 has address bits set after the /24: the subnet is 10.231.8.0/24 (Docker refuses the other)",
      ],
      [
        "172.21.0.0/14",
        "172.21.0.0/14 has address bits set after the /14: the subnet is 172.20.0.0/14 (Docker refuses the other)",
      ],
      ["10.0.300.0/24", "10.0.300.0/24: each of the four numbers is 0 to 255"],
      ["10.0.0.0/33", "10.0.0.0/33: the prefix length is 0 to 32"],
    ];
    for (const [subnet, problem] of cases) {
      const result = parseSpecText(declared("Network", "lan", `subnet: "${subnet}"`), "net.yaml");
      const expected = problem === null ? [] : [`net.yaml:6:11: spec.subnet: ${problem}`];
      expect([subnet, result.issues.map((i) => formatIssue(i))]).toEqual([subnet, expected]);
    }
  });
});
