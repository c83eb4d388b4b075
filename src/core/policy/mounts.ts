/** Checks on bind mounts: never the host's vital paths, and only under allowed folders. */
import type { Check } from "./check.js";
import { listFound } from "./check.js";
import { bindRefusal, bindSources } from "./paths.js";

export const MOUNT_CHECKS: readonly Check[] = [
  {
    id: "bind-forbidden",
    scope: "baseline",
    summary:
      "Bind mounts of `/`, `/etc`, `/proc`, `/sys`, `/var/lib/docker` and the Docker socket (or a folder holding them) are refused, whatever `--allow-bind` says, also through `..`, `//`, trailing slashes and symbolic links.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-forbidden"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) =>
      bindSources(b).flatMap((source) =>
        bindRefusal(source, policy, ctx)?.check === "bind-forbidden" ? [`bind mount of ${source}`] : [],
      ),
  },
  {
    id: "bind-allowed-prefix",
    scope: "baseline",
    summary:
      "Bind mounts are refused unless their host path (resolved) lies under an `--allow-bind` prefix; none by default.",
    spec: (doc, _spec, policy, ctx) =>
      listFound(doc.spec.mounts, (m, i) => {
        if (m.type !== "bind") return null;
        const refusal = bindRefusal(m.source, policy, ctx);
        return refusal?.check === "bind-allowed-prefix"
          ? { path: ["spec", "mounts", i, "source"], message: refusal.message }
          : null;
      }),
    request: (b, policy, ctx) =>
      bindSources(b).flatMap((source) =>
        bindRefusal(source, policy, ctx)?.check === "bind-allowed-prefix"
          ? [`bind mount of ${source} outside the allowed prefixes`]
          : [],
      ),
  },
];
