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
import type { ContainerIO, DockerPort, ExecRequest, ExecResult, LogHandlers, LogOptions } from "../docker/port.js";

/** By container name, full or short (12+ hex) ID, or spec name: then its running replica first, lowest first. */
export function pickManaged(
  containers: readonly ObservedContainer[],
  keys: LabelKeys,
  name: string,
): ObservedContainer | null {
  const exact = containers.find((c) => c.name === name || c.id === name);
  if (exact) return exact;
  if (/^[0-9a-f]{12,63}$/.test(name)) {
    const byPrefix = containers.filter((c) => c.id.startsWith(name));
    if (byPrefix.length === 1) return byPrefix[0] as ObservedContainer;
  }
  const ofSpec = containers
    .filter((c) => c.labels[keys.spec] === name)
    .sort(
      (a, b) =>
        Number(b.state === "running") - Number(a.state === "running") ||
        Number(a.labels[keys.replica] ?? 0) - Number(b.labels[keys.replica] ?? 0),
    );
  return ofSpec[0] ?? null;
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
    const containers = await this.docker.listContainers({ labels: [this.owner.filter] });
    return pickManaged(where ? containers.filter(where) : containers, this.owner.keys, name);
  }

  /** The name of the spec a container of berth's belongs to. */
  specOf(container: ObservedContainer): string | undefined {
    return container.labels[this.owner.keys.spec];
  }

  async exec(container: ObservedContainer, request: ExecRequest): Promise<ExecResult> {
    if (this.profile === "restricted") {
      const named = request.user !== undefined && request.user !== "";
      const own = named ? null : ((await this.io.user?.(container.id)) ?? null);
      const refusal = execUserRefusal(this.profile, request.user, own);
      if (refusal !== null) {
        this.log.warn({ container: shortId(container.id), check: EXEC_CHECK_ID }, "exec refused");
        throw new ExecRefused(refusal);
      }
    }
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
