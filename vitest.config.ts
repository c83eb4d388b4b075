import { defineConfig } from "vitest/config";

/**
 * The real-engine files run in two lanes, each one file at a time, side by side: what one file
 * starts (a controller, a churn of containers) then shares the engine with at most one other file.
 * Every file uses its own controller id and removes only what it made, so two files never see each
 * other's containers. The second lane holds the longest files (the kill -9 runs and the private
 * daemon's restarts, about half of the total), so that the lanes end together; a new file joins
 * the first lane unless it is listed here.
 */
const SECOND_LANE = [
  "test/docker/faults-kill.test.ts",
  "test/docker/faults-engine.test.ts",
  "test/docker/image.test.ts",
];

function dockerLane(name: string, include: string[], exclude: string[] = []) {
  return {
    test: {
      name,
      include,
      exclude,
      // Builds dist/ once per run (the first lane to set up). Only these lanes run the built CLI
      // (bin/berth.js), and nothing rebuilds dist/ while they do: the unit project, run
      // alongside, tests src/ in-process.
      globalSetup: ["test/docker/global-setup.ts"],
      // No engine: every file fails first thing with global-setup's one-line reason.
      setupFiles: ["test/docker/engine-required.setup.ts", "test/docker/engine-watchdog.setup.ts"],
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  };
}

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
      dockerLane("docker", ["test/docker/**/*.test.ts"], SECOND_LANE),
      dockerLane("docker-2", SECOND_LANE),
    ],
  },
});
