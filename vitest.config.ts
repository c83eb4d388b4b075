import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "docker",
          include: ["test/docker/**/*.test.ts"],
          // Builds dist/. Only this project runs the built CLI (bin/berth.js), and nothing rebuilds
          // dist/ while it does: the unit project, run alongside, tests src/ in-process.
          globalSetup: ["test/docker/global-setup.ts"],
          // No engine: every file fails first thing with global-setup's one-line reason.
          setupFiles: ["test/docker/engine-required.setup.ts", "test/docker/engine-watchdog.setup.ts"],
          // One file at a time: the engine is shared, and what one file starts (a controller, a
          // churn of containers) should not slow another's down to its deadlines.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
