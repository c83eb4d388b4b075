/** docker-modem's ssh transport is loaded on first use, not when dockerode is imported. */
import { createRequire } from "node:module";
import { expect, it } from "vitest";
import "../../src/docker/adapter.js";

const require = createRequire(import.meta.url);

it("keeps ssh2 unloaded until an ssh:// connection is made, then loads the real transport", () => {
  const modem = createRequire(require.resolve("docker-modem"));
  const sshFile = modem.resolve("./ssh.js");
  const ssh2Loaded = (): boolean => Object.keys(require.cache).some((k) => k.includes("/node_modules/ssh2/"));
  expect(require.cache[sshFile]).toBeDefined();
  expect(ssh2Loaded()).toBe(false);
  const ssh = modem("./ssh.js") as (options: object) => { createConnection: unknown };
  const agent = ssh({ host: "127.0.0.1", port: 1 });
  expect(typeof agent.createConnection).toBe("function");
  expect(ssh2Loaded()).toBe(true);
});
