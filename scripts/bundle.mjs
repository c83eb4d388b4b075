// Bundles the CLI into dist/bundle/ (the last step of `npm run build`; bin/berth.js runs it). Node
// spends most of a short command's start-up finding, reading and compiling modules: about 300
// files for `berth status`. Bundled, the CLI is one file, main.cjs, that bin/berth.js compiles with
// V8's code cache of the command (src/cli/code-cache.ts): Node 20 keeps no compiled code for ES
// modules, so the bundle is CommonJS. What only some commands need (each `import()` of
// src/cli/main.ts) is in the file but evaluated when imported, so `berth validate` still never
// runs fastify's code. bin/berth.js's own helpers, code-cache.js, heap.js and version.js, are
// small ES modules of Node built-ins beside it. dist/ (tsc's output) stays for the tests and the bench that
// import modules one by one.
//
// dist/bundle/ sits two levels below the package root as dist/<layer>/ does, so the paths the
// modules build from import.meta.url (schemas/, package.json) are the same in both.
import { rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { build } from "esbuild";

/**
 * Modules that load, when imported, parts a command rarely or never uses. Each of these imports
 * gets a stand-in that loads the real module the first time it is used (called, constructed or
 * read), so a command that never uses it never evaluates it:
 *
 * - `installed`: left out of the bundle and required from node_modules on first use (what
 *   src/docker/lazy-modules.ts does for dist/ through require's cache, which has nothing left to
 *   do in the bundle): docker-modem's ssh:// transport (ssh2, a 16 MB WebAssembly memory) and
 *   dockerode's BuildKit session and client (gRPC, protobufjs);
 * - `bundled`: in the bundle, evaluated on first use: pino's worker-thread transports
 *   (thread-stream: berth uses none) and dockerode's build context packer (tar-fs: berth builds
 *   no images). (pino-pretty is not bundled: util/log.ts requires it from node_modules when the
 *   first human line is written.)
 */
const DEFERRED = [
  { request: "./ssh", from: /[\\/]docker-modem[\\/]lib$/, installed: "docker-modem/lib/ssh.js" },
  { request: "./session", from: /[\\/]dockerode[\\/]lib$/, installed: "dockerode/lib/session.js" },
  { request: "./buildkit", from: /[\\/]dockerode[\\/]lib$/, installed: "dockerode/lib/buildkit.js" },
  { request: "thread-stream", from: /[\\/]pino[\\/]lib$/ },
  { request: "tar-fs", from: /[\\/]dockerode[\\/]lib$/ },
];
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** A CommonJS module standing in for `real`, whatever it exports: a function, a class or an object. */
const standIn = (real) => `let real;
const load = () => (real ??= require(${JSON.stringify(real)}));
module.exports = new Proxy(function deferred() {}, {
  apply: (_target, self, args) => Reflect.apply(load(), self, args),
  construct: (_target, args) => Reflect.construct(load(), args),
  // esbuild's import of a CommonJS module asks whether it is an ES module first: not a use.
  get: (_target, key) => (key === "__esModule" ? undefined : load()[key]),
  has: (_target, key) => key in load(),
});
`;

const deferLoading = {
  name: "defer-loading",
  setup(b) {
    for (const d of DEFERRED) {
      const filter = new RegExp(`^${escape(d.request)}(\\.js)?$`);
      b.onResolve({ filter }, (args) => {
        if (args.namespace === "deferred" || !d.from.test(args.resolveDir)) return undefined;
        return { path: d.installed ?? d.request, namespace: "deferred", pluginData: { dir: args.resolveDir, d } };
      });
    }
    b.onLoad({ filter: /.*/, namespace: "deferred" }, (args) => ({
      contents: standIn(args.path),
      loader: "js",
      resolveDir: args.pluginData.dir,
      pluginData: args.pluginData,
    }));
    // The stand-in's own require: the installed file at run time, or the module in the bundle.
    b.onResolve({ filter: /./ }, (args) =>
      args.namespace === "deferred" && args.pluginData?.d.installed ? { path: args.path, external: true } : undefined,
    );
    b.onLoad({ filter: /[\\/]src[\\/]docker[\\/]lazy-modules\.ts$/ }, () => ({ contents: "export {};", loader: "ts" }));
  },
};

/** Replaces each `from` (which must be there) by its `to` in the files `filter` matches. */
const patch = (name, filter, replacements) => ({
  name,
  setup(b) {
    b.onLoad({ filter }, async (args) => {
      let text = await readFile(args.path, "utf8");
      for (const [from, to] of replacements) {
        if (!text.includes(from)) throw new Error(`${name}: ${args.path} no longer has ${JSON.stringify(from)}`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: args.path.endsWith(".ts") ? "ts" : "js" };
    });
  },
});
const patches = [
  // The generated validator requires ajv's runtime helper through a require of its own (an ES
  // module has none): through the bundle's, it is bundled, and no file is looked up at run time.
  patch("bundle-ajv-runtime", /[\\/]src[\\/]manifest[\\/]validate\.gen\.ts$/, [
    ["const require = createRequire(import.meta.url);", ""],
  ]),
  patch("modem", /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/, [
    // docker-modem formats every request's options for its debug log, on or off: about 10 ms of
    // CPU for a one-shot command's first requests (util.inspect, cold). Only when the log is on.
    ["debug('Sending: %s', util.inspect(", "debug.enabled && debug('Sending: %s', util.inspect("],
    // A request over the engine's socket has no TLS server name, but Node's agent works one out
    // from the host when none is given, and the first net.isIP() it calls compiles the IPv6
    // expression: 3-4 ms of a command's first request (src/cli/live.ts does the same).
    ["optionsf.socketPath = socketPath;", "optionsf.socketPath = socketPath; optionsf.servername = '';"],
  ]),
];

rmSync("dist/bundle", { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: { main: "src/cli/main.ts" },
  outdir: "dist/bundle",
  outExtension: { ".js": ".cjs" },
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20.19",
  // A CommonJS file has no import.meta: the modules' own URL (they build paths and requires from
  // it) is the bundle's, as it was in the ES module bundle.
  define: { "import.meta.url": "__berthModuleUrl" },
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: 'const __berthModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  legalComments: "linked",
  logLevel: "warning",
  metafile: true,
  plugins: [deferLoading, ...patches],
});
await build({
  entryPoints: { "code-cache": "src/cli/code-cache.ts", heap: "src/cli/heap.ts", version: "src/cli/version.ts" },
  outdir: "dist/bundle",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  logLevel: "warning",
});

// code-cache.ts runs the bundle as a vm.Script, where import() needs an experimental option of
// Node's (it warns on stderr when used): every import() must be of a bundled module.
const stray = metafile.outputs["dist/bundle/main.cjs"].imports
  .filter((i) => i.kind === "dynamic-import")
  .map((i) => i.path);
if (stray.length > 0) throw new Error(`dist/bundle/main.cjs imports at run time: ${stray.join(", ")}`);
