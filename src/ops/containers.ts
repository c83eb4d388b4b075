/**
 * berth's own containers for the operator surfaces (HTTP and CLI): find one by name, ID or spec,
 * run a command in it, read its logs. Only containers carrying this controller's label are
 * candidates, so a container berth does not manage is never reachable.
 */
import type { Logger } from "pino";
import { BerthError } from "../core/errors.js";
import type { LabelKeys } from "../core/labels.js";
import { EXEC_CHECK_ID, execUserRefusal } from "../core/policy/exec.js";
import type { Profile } from "../core/policy/policy.js";
import { type ObservedContainer, shortId } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type {
  ContainerIO,
  DockerPort,
  ExecRequest,
  ExecResult,
  LogHandlers,
  LogOptions,
  TerminalHandlers,
  TerminalRequest,
  TerminalSession,
} from "../docker/port.js";

/** What a name finds among berth's containers. */
export type ManagedLookup =
  | { readonly kind: "found"; readonly container: ObservedContainer }
  /** A spec name whose every container is a claimed pool member: each container's name and its claim. */
  | { readonly kind: "claimed"; readonly members: readonly { readonly container: string; readonly claim: string }[] }
  | { readonly kind: "none" };

/**
 * By container name, full or short (12+ hex) ID, or spec name: then its running replica first,
 * lowest first. `claimed` (container ID → its claim) are pool members one consumer each holds
 * (docs/pools.md): a spec name, which names the pool, passes over them; their own name or ID finds them.
 */
export function lookupManaged(
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
  name: string,
  claimed: ReadonlyMap<string, string> = new Map(),
): ManagedLookup {
  const exact = containers.find((c) => c.name === name || c.id === name);
  if (exact) return { kind: "found", container: exact };
  if (/^[0-9a-f]{12,63}$/.test(name)) {
    const byPrefix = containers.filter((c) => c.id.startsWith(name));
    if (byPrefix.length === 1) return { kind: "found", container: byPrefix[0] as ObservedContainer };
  }
  const ofSpec = containers.filter((c) => c.labels[keys.spec] === name);
  const free = ofSpec
    .filter((c) => !claimed.has(c.id))
    .sort(
      (a, b) =>
        Number(b.state === "running") - Number(a.state === "running") ||
        Number(a.labels[keys.replica] ?? 0) - Number(b.labels[keys.replica] ?? 0),
    );
  if (free[0]) return { kind: "found", container: free[0] };
  if (ofSpec.length === 0) return { kind: "none" };
  return { kind: "claimed", members: ofSpec.map((c) => ({ container: c.name, claim: claimed.get(c.id) ?? "" })) };
}

/** lookupManaged, where no container is claimed: the container, or null. */
export function pickManaged(
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
  name: string,
): ObservedContainer | null {
  const found = lookupManaged(containers, keys, name);
  return found.kind === "found" ? found.container : null;
}

export class ManagedContainers {
  constructor(
    private readonly docker: Pick<DockerPort, "listContainers">,
    private readonly io: ContainerIO,
    private readonly owner: Ownership,
    private readonly log: Logger,
    /** The admission profile: under restricted, an exec may not run as root (core/policy/exec.ts). */
    private readonly profile: Profile = "baseline",
  ) {}

  /**
   * berth's own container by container name, ID, or spec name (its lowest running replica); null
   * if none. With `where`, only the containers it accepts are candidates (the compat API's agents).
   */
  async find(name: string, where?: (container: ObservedContainer) => boolean): Promise<ObservedContainer | null> {
    return pickManaged(await this.list(where), this.owner.keys, name);
  }

  /** berth's own container by name, ID or spec name, a spec name passing over the `claimed` members (lookupManaged). */
  async lookup(name: string, claimed: ReadonlyMap<string, string>): Promise<ManagedLookup> {
    return lookupManaged(await this.list(), this.owner.keys, name, claimed);
  }

  /** berth's own containers (those `where` accepts), as the engine lists them. */
  async list(where?: (container: ObservedContainer) => boolean): Promise<ObservedContainer[]> {
    const containers = await this.docker.listContainers({ labels: [this.owner.filter] });
    return where ? containers.filter(where) : containers;
  }

  /** The name of the spec a container of berth's belongs to. */
  specOf(container: ObservedContainer): string | undefined {
    return container.labels[this.owner.keys.spec];
  }

  /** Under restricted, an exec (one-shot or interactive) may not run as root: refused before the engine is asked. */
  private async admitExec(container: ObservedContainer, user: string | undefined): Promise<void> {
    if (this.profile !== "restricted") return;
    const named = user !== undefined && user !== "";
    const own = named ? null : ((await this.io.user?.(container.id)) ?? null);
    const refusal = execUserRefusal(this.profile, user, own);
    if (refusal !== null) {
      this.log.warn({ container: shortId(container.id), check: EXEC_CHECK_ID }, "exec refused");
      throw new ExecRefused(refusal);
    }
  }

  async exec(container: ObservedContainer, request: ExecRequest): Promise<ExecResult> {
    await this.admitExec(container, request.user);
    const result = await this.io.exec(container.id, request);
    // The command, not its arguments or environment, which may hold secrets.
    this.log.info(
      {
        container: shortId(container.id),
        command: request.cmd[0],
        exitCode: result.exitCode,
        timedOut: result.timedOut,
      },
      "exec done",
    );
    return result;
  }

  /**
   * An interactive exec (a terminal over a WebSocket, `berth exec -it`): logged when it opens and
   * when it ends, with the command's name and exit code, never its input or output.
   */
  async terminal(
    container: ObservedContainer,
    request: TerminalRequest,
    handlers: TerminalHandlers,
  ): Promise<TerminalSession> {
    if (!this.io.terminal) throw new Error("interactive exec is not available on this engine");
    await this.admitExec(container, request.user);
    const session = await this.io.terminal(container.id, request, handlers);
    const fields = { container: shortId(container.id), command: request.cmd[0], tty: request.tty };
    this.log.info(fields, "terminal opened");
    void session.exited.then((exitCode) => {
      this.log.info({ ...fields, exitCode }, "terminal closed");
    });
    return session;
  }

  logs(container: ObservedContainer, options: LogOptions, handlers: LogHandlers): Promise<{ close(): void }> {
    return this.io.logs(container.id, options, handlers);
  }
}

/** An exec the admission policy refuses: nothing reached the engine. HTTP answers 403. */
export class ExecRefused extends BerthError {
  /** The status fastify's error handler answers with (http/server.ts). */
  readonly statusCode = 403;

  constructor(message: string) {
    super("BERTH_POLICY", message);
    this.name = "ExecRefused";
  }
}
