/** Checks on where secretEnv values may come from. */
import type { Check } from "./check.js";
import { lexicalPath, secretFileRefusal } from "./paths.js";
import type { Policy, PolicyContext } from "./types.js";

/**
 * Why a secret file may not be read because it is one of berth's own credential files (the API
 * token file): the same path, the same path once links are resolved, or — where the context can
 * tell — the same file under another name (a hard link). Null when it is none of them.
 */
export function ownCredentialRefusal(file: string, policy: Policy, ctx: PolicyContext): string | null {
  if (policy.ownCredentialFiles.length === 0) return null;
  const lexical = lexicalPath(file);
  const resolved = lexicalPath(ctx.realpath(lexical));
  for (const own of policy.ownCredentialFiles) {
    const ownLexical = lexicalPath(own);
    if (
      lexical === ownLexical ||
      resolved === lexicalPath(ctx.realpath(ownLexical)) ||
      ctx.sameFile?.(lexical, ownLexical) === true
    ) {
      const shown = resolved === lexical ? file : `${file} (resolves to ${resolved})`;
      return `${shown} is a file berth reads for its own credentials (such as its --api-token-file); it is never handed to a container`;
    }
  }
  return null;
}

/** The read-time form: nothing is refused under --policy privileged. */
export function ownCredentialAllowed(file: string, policy: Policy, ctx: PolicyContext): string | null {
  return policy.profile === "privileged" ? null : ownCredentialRefusal(file, policy, ctx);
}

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
    id: "no-own-credentials",
    scope: "baseline",
    summary:
      "`secretEnv.*.fromFile` may not be, or resolve to, a file berth reads for its own credentials (its `--api-token-file`), also through a symbolic or hard link. Checked again, on the opened file, when it is read.",
    spec: (doc, _spec, policy, ctx) =>
      Object.entries(doc.spec.secretEnv ?? {}).flatMap(([name, ref]) => {
        if (ref.fromFile === undefined) return [];
        const refusal = ownCredentialRefusal(ref.fromFile, policy, ctx);
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
