/**
 * The agents docker-spawner itself started, before berth replaced it (docs/http-api.md,
 * "docker-spawner compatibility"): containers labelled `com.tidepool.role=agent` that carry no
 * berth controller label at all. Under --compat docker-spawner, and only through its routes,
 * berth finds them by name or ID, runs commands in them and stops them, as docker-spawner did;
 * the reconcile loop never sees them (it lists by its own label), so nothing else touches them.
 */
import type { Logger } from "pino";
import { type ObservedContainer, shortId } from "../core/observed.js";
import type { Ownership } from "../core/ownership.js";
import type { DockerPort } from "../docker/port.js";
import { pickManaged } from "./containers.js";

/** The label, and its value, every docker-spawner agent carries. */
export const ROLE_LABEL = "com.tidepool.role";
export const AGENT_ROLE = "agent";
/** docker-spawner's stop: SIGTERM, then SIGKILL after 10 s, then remove. */
export const ORIGINAL_STOP_TIMEOUT_S = 10;

export class OriginalAgents {
  constructor(
    private readonly docker: Pick<DockerPort, "listContainers" | "stopContainer" | "removeContainer">,
    private readonly owner: Ownership,
    private readonly log: Logger,
  ) {}

  /** An agent docker-spawner started, by container name, full ID or a unique ID prefix; null if none. */
  async find(name: string): Promise<ObservedContainer | null> {
    const agents = await this.docker.listContainers({ labels: [`${ROLE_LABEL}=${AGENT_ROLE}`] });
    const theirs = agents.filter((c) => c.labels[this.owner.keys.controller] === undefined);
    return pickManaged(theirs, this.owner.keys, name);
  }

  /** Stops (10 s grace) and removes it, as docker-spawner's /stop did. */
  async stop(agent: ObservedContainer): Promise<void> {
    if (agent.state === "running" || agent.state === "restarting" || agent.state === "paused")
      await this.docker.stopContainer(agent.id, ORIGINAL_STOP_TIMEOUT_S);
    await this.docker.removeContainer(agent.id, { force: true });
    this.log.info({ container: shortId(agent.id), name: agent.name }, "docker-spawner agent stopped and removed");
  }
}
