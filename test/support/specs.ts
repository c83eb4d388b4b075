/** Small spec texts for tests. */
export interface SpecTextOptions {
  /** null: no image (a spec with build). */
  readonly image?: string | null;
  readonly replicas?: number;
  readonly extra?: readonly string[];
  /** metadata.labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One spec document as YAML text. `extra` lines go under `spec:` (without indentation). */
export function specText(name: string, options: SpecTextOptions = {}): string {
  return [
    "apiVersion: berth/v1",
    "kind: Container",
    "metadata:",
    `  name: ${name}`,
    ...(options.labels ? ["  labels:", ...Object.entries(options.labels).map(([k, v]) => `    ${k}: ${v}`)] : []),
    "spec:",
    ...(options.image === null ? [] : [`  image: ${options.image ?? "berth-test/busybox:latest"}`]),
    ...(options.replicas !== undefined ? [`  replicas: ${options.replicas}`] : []),
    ...(options.extra ?? []).map((l) => `  ${l}`),
    "",
  ].join("\n");
}

/**
 * Two replicas of the test image running `script` under sh, as VERSION `version`, each to stay up
 * `stableFor` (spec.stableFor) and stopped within a second: a rollout's test subject.
 */
export function versionedSpec(
  name: string,
  version: string,
  script: string,
  stableFor: string,
  extra: readonly string[] = [],
): string {
  return specText(name, {
    replicas: 2,
    extra: [
      `command: ["sh", "-c", ${JSON.stringify(script)}]`,
      `env: { VERSION: "${version}" }`,
      `stableFor: ${stableFor}`,
      "stopTimeout: 1s",
      ...extra,
    ],
  });
}
