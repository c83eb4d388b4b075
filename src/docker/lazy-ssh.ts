/**
 * docker-modem loads its ssh:// transport (ssh2) when it is imported, and ssh2 instantiates a
 * 16 MB WebAssembly memory for poly1305 as it loads: 17 MB of every berth process for a
 * transport only DOCKER_HOST=ssh://… uses. Imported before dockerode, this puts a stand-in for
 * docker-modem's ssh module in the require cache that loads the real one on first use.
 */
import { createRequire, Module } from "node:module";

const require = createRequire(import.meta.url);

function install(): void {
  let file: string;
  try {
    file = createRequire(require.resolve("docker-modem")).resolve("./ssh.js");
  } catch {
    return; // a different docker-modem layout: load it as it is
  }
  if (require.cache[file]) return;
  let real: ((options: unknown) => unknown) | null = null;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = function ssh(options: unknown): unknown {
    if (!real) {
      require.cache[file] = undefined; // so that require loads the real file
      real = require(file) as (options: unknown) => unknown;
      require.cache[file] = standIn;
    }
    return real(options);
  };
  require.cache[file] = standIn;
}

install();
