/** A pinned root (a Git source's `specs` link) is read through the checkout it points to when a load starts. */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_LOADER_OPTIONS, SpecLoader } from "../../../src/manifest/loader.js";
import { GitCheckout } from "../../../src/host/git-checkout.js";
import { tempDir } from "../../support/tmp.js";

const spec = (name: string) =>
  `apiVersion: berth/v1\nkind: Container\nmetadata:\n  name: ${name}\nspec:\n  image: busybox:latest\n`;

describe("pinned roots", () => {
  it("reads every file of a load from the checkout the link named, and the path says which", async () => {
    const root = tempDir();
    const a = "a".repeat(40);
    mkdirSync(path.join(root, "checkouts", a, "specs"), { recursive: true });
    writeFileSync(path.join(root, "checkouts", a, "specs", "web.yaml"), spec("web"));
    const link = path.join(root, "specs");
    symlinkSync(path.join("checkouts", a, "specs"), link);
    const pinned = new SpecLoader([link], { ...DEFAULT_LOADER_OPTIONS, pinnedRoots: new Set([link]) });
    const result = await pinned.load();
    const file = result.files[0];
    expect(path.resolve(file?.path ?? "")).toBe(path.join(realpathSync(root), "checkouts", a, "specs", "web.yaml"));
    expect(result.directories).toEqual([{ dir: link, readable: true, fileCount: 1 }]);
    const checkout = new GitCheckout({
      root: realpathSync(root),
      url: "file:///nowhere",
      ref: { kind: "name", name: "main" },
      gitPath: "specs",
      credentials: { token: null, sshKeyFile: null, knownHostsFile: null },
      timeoutMs: 1000,
    });
    expect(checkout.revisionOfPath(file?.path ?? "")).toBe(a);
    expect(checkout.revisionOfPath(path.join(root, "elsewhere", "web.yaml"))).toBeNull();
    expect(checkout.specFileOf(file?.path ?? "")).toBe("web.yaml");
    expect(checkout.specFileOf(path.join(root, "specs", "sub", "x.yaml"))).toBe(path.join("sub", "x.yaml"));
    expect(checkout.specFileOf(path.join(root, "checkouts", a, "other", "x.yaml"))).toBeNull();
    // Not pinned: read through the link, as any folder.
    const plain = await new SpecLoader([link], DEFAULT_LOADER_OPTIONS).load();
    expect(path.resolve(plain.files[0]?.path ?? "")).toBe(path.join(link, "web.yaml"));
  });
});
