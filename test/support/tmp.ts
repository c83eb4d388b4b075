/** Temporary folders for tests, removed afterwards. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach } from "vitest";

const perTest: string[] = [];
const perFile: string[] = [];

afterEach(() => {
  for (const dir of perTest.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(() => {
  for (const dir of perFile.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh temporary folder, removed after the current test, or with `lifetime: "file"` after the
 * test file (for folders made in beforeAll).
 */
export function tempDir(prefix = "berth-test-", lifetime: "test" | "file" = "test"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  (lifetime === "test" ? perTest : perFile).push(dir);
  return dir;
}
