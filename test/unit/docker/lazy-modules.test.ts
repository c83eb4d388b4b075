/** docker-modem's ssh transport and dockerode's BuildKit session load on first use, not on import. */
import { createRequire } from "node:module";
import { expect, it } from "vitest";
import "../../../src/docker/adapter.js";

const require = createRequire(import.meta.url);
const loaded = (dir: string): boolean => Object.keys(require.cache).some((k) => k.includes(`/node_modules/${dir}/`));

it("keeps ssh2 unloaded until an ssh:// connection is made, then loads the real transport", () => {
  const modem = createRequire(require.resolve("docker-modem"));
  expect(require.cache[modem.resolve("./ssh.js")]).toBeDefined();
  expect(loaded("ssh2")).toBe(false);
  const ssh = modem("./ssh.js") as (options: object) => { createConnection: unknown };
  const agent = ssh({ host: "127.0.0.1", port: 1 });
  expect(typeof agent.createConnection).toBe("function");
  expect(loaded("ssh2")).toBe(true);
});

it("keeps gRPC unloaded until a BuildKit session is opened, then runs the real session code", () => {
  const dockerode = createRequire(require.resolve("dockerode"));
  expect(require.cache[dockerode.resolve("./session.js")]).toBeDefined();
  expect(loaded("@grpc/grpc-js")).toBe(false);
  const withSession = dockerode("./session.js") as (docker: object, auth: null, handler: () => void) => void;
  const dialed: { path?: string }[] = [];
  withSession({ modem: { dial: (opts: { path: string }) => dialed.push(opts) } }, null, () => undefined);
  expect(dialed.map((d) => d.path)).toEqual(["/session"]);
  expect(loaded("@grpc/grpc-js")).toBe(true);
});
