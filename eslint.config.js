import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * The layers of src/ and what each may import (docs/design.md, "Layers"). A layer may import the
 * layers after it in this list, never one before it:
 *   cli → app.ts → http → ops → loop → host, docker, manifest, compose → config.ts → core, util
 * Broken by an import, `npm run lint` fails.
 */
const LAYERS = {
  cli: ["src/cli"],
  app: ["src/app.ts"],
  http: ["src/http"],
  ops: ["src/ops"],
  loop: ["src/loop"],
  edges: ["src/host", "src/docker", "src/manifest", "src/compose"],
  config: ["src/config.ts"],
  base: ["src/core", "src/util"],
};
const order = Object.keys(LAYERS);
const above = (layer) => order.slice(0, order.indexOf(layer)).flatMap((l) => LAYERS[l]);
const layerZones = order.slice(1).flatMap((layer) =>
  LAYERS[layer].map((target) => ({
    target: `./${target}`,
    from: above(layer).map((p) => `./${p}`),
    message: `${target} is below ${above(layer).join(", ")} (eslint.config.js, LAYERS)`,
  })),
);
const sideways = [
  // The edges do not know each other, and core does not know util's clock or log.
  { target: "./src/host", from: ["./src/docker", "./src/manifest"] },
  { target: "./src/docker", from: ["./src/host", "./src/manifest"] },
  { target: "./src/manifest", from: ["./src/host", "./src/docker", "./src/compose"] },
  { target: "./src/host", from: ["./src/compose"] },
  { target: "./src/docker", from: ["./src/compose"] },
  {
    target: "./src/compose",
    from: ["./src/host", "./src/docker", "./src/manifest", "./src/config.ts", "./src/util"],
    message: "compose is a pure converter: it imports core only (eslint.config.js)",
  },
  { target: "./src/core", from: ["./src/util"], message: "core is pure: no clock, log or timers" },
];

/** Packages only one place may import: [package, where]. */
const OWNED = [
  ["dockerode", "src/docker/client.ts"],
  ["fastify", "src/http/"],
  ["prom-client", "src/http/metrics.ts"],
  ["chokidar", "src/host/watcher.ts"],
  ["commander", "src/cli/"],
  // Docker through the Engine API only; the programs berth runs: git and registry credential helpers.
  ["node:child_process", "src/host/git.ts (git) and src/host/registry-auth.ts (docker-credential-<name> get)"],
];
/** The rule for files that may import the packages `allowed`, and none of the others. */
const owners = (...allowed) => [
  "error",
  {
    paths: OWNED.filter(([name]) => !allowed.includes(name)).map(([name, where]) => ({
      name,
      message: `${name} is imported in ${where} only`,
    })),
  },
];

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "coverage/",
      "bench/results/",
      "src/core/document.gen.ts",
      "src/manifest/validate.gen.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "bin/*.js", "scripts/*.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unnecessary-condition": "off",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  // The boundaries of src/.
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": ["error", { zones: [...layerZones, ...sideways] }],
      "no-restricted-imports": owners(),
    },
  },
  { files: ["src/docker/client.ts"], rules: { "no-restricted-imports": owners("dockerode") } },
  { files: ["src/host/registry-auth.ts"], rules: { "no-restricted-imports": owners("node:child_process") } },
  { files: ["src/http/**"], rules: { "no-restricted-imports": owners("fastify") } },
  { files: ["src/http/metrics.ts"], rules: { "no-restricted-imports": owners("prom-client") } },
  { files: ["src/host/watcher.ts"], rules: { "no-restricted-imports": owners("chokidar") } },
  { files: ["src/cli/**"], rules: { "no-restricted-imports": owners("commander") } },
  { files: ["src/host/git.ts"], rules: { "no-restricted-imports": owners("node:child_process") } },
  // The Compose converter is pure too: the CLI reads the files and the environment and hands them in.
  {
    files: ["src/compose/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^node:", message: "compose is a pure converter: the CLI reads files (cli/commands/import.ts)" },
            {
              regex: "^(dockerode|fastify|pino|prom-client|chokidar|commander|ajv)$",
              message: "compose imports core only",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "compose is pure: the CLI hands in the environment" },
      ],
    },
  },
  // core is pure: no Node modules (sha256.ts and deflate.ts are its stated exceptions), no packages with
  // effects, no process, timers or clock.
  {
    files: ["src/core/**/*.ts"],
    ignores: ["src/core/sha256.ts", "src/core/deflate.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^node:", message: "core is pure: Node's modules are used at the edges (host/, docker/)" },
            {
              regex: "^(dockerode|fastify|pino|pino-pretty|prom-client|chokidar|node-cron|commander|yaml|ajv)$",
              message: "core is pure: this package belongs to an edge",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        ...["process", "setTimeout", "setInterval", "setImmediate", "performance", "fetch"].map((name) => ({
          name,
          message: "core is pure: the edges own the process, timers and the network",
        })),
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "MemberExpression[object.name='Date'][property.name='now'], NewExpression[callee.name='Date'][arguments.length=0]",
          message: "core is pure: the time comes in as a parameter (util/clock.ts reads it)",
        },
      ],
    },
  },
  {
    files: ["src/cli/**", "scripts/**", "bench/**", "test/**"],
    rules: { "no-console": "off" },
  },
  {
    files: ["test/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-confusing-void-expression": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
);
