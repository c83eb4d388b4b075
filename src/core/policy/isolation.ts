/** Checks that keep a container in its own namespaces: not privileged, no host or foreign namespace. */
import type { BerthContainer } from "../document.gen.js";
import type { EngineCreateBody } from "../create-request.js";
import type { FieldPath } from "../spec.js";
import type { Check, Found } from "./check.js";

const NAMESPACE_FIELDS = [
  ["pidMode", "PidMode"],
  ["ipcMode", "IpcMode"],
  ["utsMode", "UTSMode"],
  ["usernsMode", "UsernsMode"],
] as const;

/** The `container:NAME` namespace joins of a document, with their field paths. */
export function namespaceJoins(doc: BerthContainer): { path: FieldPath; name: string }[] {
  const joins: { path: FieldPath; name: string }[] = [];
  const s = doc.spec;
  if (s.network?.startsWith("container:")) joins.push({ path: ["spec", "network"], name: s.network.slice(10) });
  for (const [field] of NAMESPACE_FIELDS) {
    const mode = s[field];
    if (mode?.startsWith("container:")) joins.push({ path: ["spec", field], name: mode.slice(10) });
  }
  return joins;
}

export function joinMessage(name: string): string {
  return (
    `joins the namespace of container ${JSON.stringify(name)}, which is not a container of a berth spec; ` +
    "only containers berth manages may be joined (or run berth with --policy privileged)"
  );
}

function requestModes(body: EngineCreateBody): [string, string][] {
  const h = body.HostConfig;
  return [
    ["NetworkMode", h.NetworkMode],
    ["PidMode", h.PidMode ?? ""],
    ["IpcMode", h.IpcMode ?? ""],
    ["UTSMode", h.UTSMode ?? ""],
    ["UsernsMode", h.UsernsMode ?? ""],
  ];
}

/** Network drivers that reach the host's own network or interfaces. */
const HOST_NETWORK_DRIVERS = new Set(["host", "macvlan", "ipvlan"]);

export const ISOLATION_CHECKS: readonly Check[] = [
  {
    id: "no-privileged",
    scope: "baseline",
    summary: "`securityContext.privileged` is refused: a privileged container has every device and capability.",
    spec: (doc) =>
      doc.spec.securityContext?.privileged === true
        ? [{ path: ["spec", "securityContext", "privileged"], message: "privileged containers are refused" }]
        : [],
    request: (b) => (b.HostConfig.Privileged === true ? ["Privileged is true"] : []),
  },
  {
    id: "no-host-namespaces",
    scope: "baseline",
    summary: "`network: host` and `pidMode`/`ipcMode`/`utsMode`/`usernsMode: host` are refused.",
    spec: (doc) => {
      const found: Found[] = [];
      if (doc.spec.network === "host")
        found.push({ path: ["spec", "network"], message: "the host's network namespace is refused" });
      for (const [field] of NAMESPACE_FIELDS) {
        if (doc.spec[field] === "host")
          found.push({ path: ["spec", field], message: `the host's ${field.slice(0, -4)} namespace is refused` });
      }
      return found;
    },
    request: (b) => requestModes(b).flatMap(([key, mode]) => (mode === "host" ? [`${key} is host`] : [])),
  },
  {
    id: "network-driver",
    scope: "baseline",
    summary:
      "A `kind: Network` document may not use the `host`, `macvlan` or `ipvlan` driver: each puts containers on the host's own network or its interfaces (privileged profile only).",
    object: (o) =>
      o.kind === "Network" && HOST_NETWORK_DRIVERS.has(o.driver)
        ? [
            {
              path: ["spec", "driver"],
              message: `the ${o.driver} driver puts containers on the host's network or its interfaces, and is refused (use bridge, the default)`,
            },
          ]
        : [],
  },
  {
    id: "no-foreign-namespace-join",
    scope: "baseline",
    summary: "`container:NAME` modes may only join a container of a berth spec.",
    spec: (doc, _spec, _policy, ctx) =>
      ctx.ownsContainer === undefined
        ? []
        : namespaceJoins(doc)
            .filter((j) => !ctx.ownsContainer?.(j.name))
            .map((j) => ({ path: j.path, message: joinMessage(j.name) })),
    request: (b, _policy, ctx) =>
      requestModes(b).flatMap(([key, mode]) =>
        mode.startsWith("container:") && ctx.ownsContainer?.(mode.slice(10)) !== true
          ? [`${key} joins ${mode.slice(10)}, which berth does not own`]
          : [],
      ),
  },
];
