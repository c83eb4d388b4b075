/**
 * Compose keys about what the container sees of its host and how it is stopped and logged:
 * extra_hosts → hostAliases, dns/dns_search/dns_opt → dnsConfig, shm_size, stop_signal, logging.
 */
import type { Handler, ServiceContext } from "./context.js";
import type { Tree } from "./tree.js";
import { composeBytes, keyValues, scalarText } from "./values.js";

type DnsConfig = NonNullable<ServiceContext["spec"]["dnsConfig"]>;

const text = (v: Tree): string => scalarText(v);

/** A string or a list of strings, as dns and dns_search take them. */
const words = (v: Tree): string[] => (v.kind === "seq" ? v.items.map(text) : [text(v)]).filter((w) => w !== "");

/**
 * `extra_hosts: ["db.internal:10.0.0.5", "gw=host-gateway"]` or `{db.internal: 10.0.0.5}`:
 * grouped by address, in the file's order, as Kubernetes' hostAliases.
 */
export const extraHosts: Handler = (ctx, value, at, path) => {
  let entries: [string, string][];
  if (value.kind === "map") {
    entries = [...value.entries].map(([host, e]) => [host, text(e.value)]);
  } else if (value.kind === "seq") {
    entries = [];
    for (const [i, item] of value.items.entries()) {
      // host=ip (Compose 2.24+) or host:ip; an IPv6 address has colons of its own, a hostname none.
      const line = text(item);
      const sep = /[=:]/.exec(line);
      if (!sep) ctx.error(item, `${path}[${i}]`, `"${line}" is not HOST:IP or HOST=IP`);
      else entries.push([line.slice(0, sep.index), line.slice(sep.index + 1)]);
    }
  } else {
    ctx.error(at, path, "expected a list of HOST:IP or a mapping of host to address");
    return;
  }
  const byIp = new Map<string, string[]>();
  for (const [host, ip] of entries) {
    // Compose allows [::1] for an IPv6 address.
    const address = ip.replace(/^\[(.*)\]$/, "$1");
    byIp.set(address, [...(byIp.get(address) ?? []), host]);
  }
  if (byIp.size > 0)
    ctx.spec.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames: hostnames as [string, ...string[]] }));
};

const dnsField =
  (set: (dns: DnsConfig, values: string[]) => void): Handler =>
  (ctx, value) => {
    const values = words(value);
    if (values.length > 0) set((ctx.spec.dnsConfig ??= {}), values);
  };

export const dns = dnsField((d, v) => (d.nameservers = v as DnsConfig["nameservers"]));
export const dnsSearch = dnsField((d, v) => (d.searches = v as DnsConfig["searches"]));
/** `dns_opt: ["ndots:2", "edns0"]` → options `{name: ndots, value: "2"}`, `{name: edns0}`. */
export const dnsOpt = dnsField((d, v) => {
  d.options = v.map((o) => {
    const colon = o.indexOf(":");
    return colon === -1 ? { name: o } : { name: o.slice(0, colon), value: o.slice(colon + 1) };
  }) as DnsConfig["options"];
});

export const shmSize: Handler = (ctx, value, at, path) => {
  const r = composeBytes(text(value));
  if ("error" in r) ctx.error(at, path, r.error);
  else ctx.spec.shmSize = r.ok;
};

/** `stop_signal: SIGQUIT` (or QUIT, as Docker also takes it): berth writes the SIG form. */
export const stopSignal: Handler = (ctx, value) => {
  const signal = text(value).toUpperCase();
  ctx.spec.stopSignal = /^[0-9]+$/.test(signal) || signal.startsWith("SIG") ? signal : `SIG${signal}`;
};

/** `logging: {driver, options}`; without a driver, Docker's default one (json-file) is named. */
export const logging: Handler = (ctx, value, at, path) => {
  if (value.kind !== "map") {
    ctx.error(at, path, "expected a mapping with driver and options");
    return;
  }
  const driver = value.entries.get("driver");
  const options = value.entries.get("options");
  const logged: NonNullable<ServiceContext["spec"]["logging"]> = { driver: driver ? text(driver.value) : "json-file" };
  if (!driver) ctx.warn(at, path, "no driver: berth names json-file, Docker's default (the daemon's may differ)");
  if (options) {
    const r = keyValues(options.value);
    if ("error" in r) ctx.error(options, `${path}.options`, r.error);
    else logged.options = Object.fromEntries(r.ok.map(([k, v]) => [k, v ?? ""]));
  }
  for (const [k, e] of value.entries)
    if (k !== "driver" && k !== "options") ctx.warn(e, `${path}.${k}`, "unknown logging key, ignored");
  ctx.spec.logging = logged;
};
