/**
 * dockerode loads, when it is imported, two parts berth never uses unless asked to:
 *
 * - docker-modem's ssh:// transport (ssh2), which instantiates a 16 MB WebAssembly memory for
 *   poly1305 as it loads: 17 MB of every berth process, for DOCKER_HOST=ssh://… only;
 * - dockerode's BuildKit session (@grpc/grpc-js, @grpc/proto-loader, protobufjs): about 150 ms of
 *   start-up and 1 MB of heap, for BuildKit image builds only.
 *
 * Imported before dockerode, this puts a stand-in for each of those modules (each exports one
 * function) in the require cache; the stand-in loads the real module the first time it is called.
 */
import { createRequire, Module } from "node:module";

const require = createRequire(import.meta.url);

/** `file` relative to the package `pkg`'s main module. */
function defer(pkg: string, file: string): void {
  let full: string;
  try {
    full = createRequire(require.resolve(pkg)).resolve(file);
  } catch {
    return; // a different layout: load it as it is
  }
  if (require.cache[full]) return;
  let real: ((...args: unknown[]) => unknown) | null = null;
  const standIn = new Module(full);
  standIn.filename = full;
  standIn.loaded = true;
  standIn.exports = function deferred(...args: unknown[]): unknown {
    if (!real) {
      require.cache[full] = undefined; // so that require loads the real file
      real = require(full) as (...args: unknown[]) => unknown;
      require.cache[full] = standIn;
    }
    return real(...args);
  };
  require.cache[full] = standIn;
}

defer("docker-modem", "./ssh.js");
defer("dockerode", "./session.js");
