/**
 * Execute the actions on declared networks and volumes: one engine call each, with berth's labels
 * on what it creates. A name taken by an object berth does not own is a conflict (the planner
 * reports those it sees; this catches one that appeared since), never adopted.
 */
import { describeObject, objectLabels } from "../core/declared.js";
import { BerthError } from "../core/errors.js";
import type { Ownership } from "../core/ownership.js";
import type { Action } from "../core/plan/plan.js";
import { isDockerError } from "../docker/errors.js";
import type { DockerPort } from "../docker/port.js";

export type ObjectAction = Extract<
  Action,
  { kind: "create-network" | "create-volume" | "remove-network" | "remove-volume" }
>;

export function isObjectAction(action: Action): action is ObjectAction {
  return (
    action.kind === "create-network" ||
    action.kind === "create-volume" ||
    action.kind === "remove-network" ||
    action.kind === "remove-volume"
  );
}

function conflict(what: string): BerthError {
  return new BerthError(
    "BERTH_NAME_CONFLICT",
    `${what} exists and berth does not own it; it is neither adopted nor changed (remove it, or remove the document)`,
    // Retried (backing off): once the foreign object is gone, the create goes through.
    { retriable: true },
  );
}

export async function runObjectAction(action: ObjectAction, docker: DockerPort, owner: Ownership): Promise<void> {
  switch (action.kind) {
    case "create-network": {
      const { object: o, hash, source } = action.object;
      if (o.kind !== "Network") return;
      const labels = objectLabels(o, hash, source, owner.keys, owner.controllerId);
      try {
        await docker.createNetwork(o.name, { ...o, labels });
      } catch (err) {
        if (isDockerError(err, "conflict")) throw conflict(describeObject(o));
        throw err;
      }
      return;
    }
    case "create-volume": {
      const { object: o, hash, source } = action.object;
      if (o.kind !== "Volume") return;
      const labels = objectLabels(o, hash, source, owner.keys, owner.controllerId);
      const made = await docker.createVolume(o.name, labels, { driver: o.driver, driverOpts: { ...o.options } });
      // The engine hands back the existing volume when the name is taken.
      if (!owner.owns(made)) throw conflict(describeObject(o));
      return;
    }
    case "remove-network":
    case "remove-volume":
      try {
        if (action.kind === "remove-network") await docker.removeNetwork(action.target.name);
        else await docker.removeVolume(action.target.name);
      } catch (err) {
        // In use by a container that appeared since the observation: kept, planned again.
        if (isDockerError(err, "conflict")) {
          throw new BerthError("BERTH_RACE", `${describeObject(action.target)} is in use; kept`, {
            retriable: true,
            cause: err,
          });
        }
        throw err;
      }
      return;
  }
}
