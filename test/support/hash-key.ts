/** The hash-key volume a controller id's berth makes when a spec has secrets (finding 11): removed after the tests that make one. */
import { docker } from "./e2e.js";

export async function removeHashKey(controllerId: string, labelPrefix = "berth"): Promise<void> {
  await docker
    .getVolume(`${labelPrefix}-hash-key.${controllerId}`)
    .remove({ force: true })
    .catch(() => undefined);
}
