/** Checks on where secretEnv values may come from. */
import type { Check } from "./check.js";
import { secretFileRefusal } from "./paths.js";

export const SECRET_CHECKS: readonly Check[] = [
  {
    id: "secret-file-dirs",
    scope: "baseline",
    summary:
      "`secretEnv.*.fromFile` must lie (resolved) under an `--allow-secret-dir` folder (default /run/secrets). Checked again when the file is read.",
    spec: (doc, _spec, policy, ctx) =>
      Object.entries(doc.spec.secretEnv ?? {}).flatMap(([name, ref]) => {
        if (ref.fromFile === undefined) return [];
        const refusal = secretFileRefusal(ref.fromFile, policy, ctx);
        return refusal ? [{ path: ["spec", "secretEnv", name, "fromFile"], message: refusal }] : [];
      }),
  },
  {
    id: "no-berth-secrets",
    scope: "baseline",
    summary:
      "`secretEnv.*.fromHostEnv` may not read berth's own settings (variables starting with BERTH_, such as the API token).",
    spec: (doc) =>
      Object.entries(doc.spec.secretEnv ?? {}).flatMap(([name, ref]) =>
        ref.fromHostEnv?.startsWith("BERTH_")
          ? [
              {
                path: ["spec", "secretEnv", name, "fromHostEnv"],
                message: `${ref.fromHostEnv} is one of berth's own settings and is not handed to containers`,
              },
            ]
          : [],
      ),
  },
];
