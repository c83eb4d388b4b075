/**
 * Which containers are this controller's: those whose controller label holds its id (label keys
 * under the configured prefix). One value, so that the label filter and the test are written
 * once: berth never touches a container it does not own.
 */
import type { LabelKeys } from "./labels.js";

export interface Ownership {
  /** The label keys berth writes (prefix configurable). */
  readonly keys: LabelKeys;
  /** This controller's id (--id). */
  readonly controllerId: string;
  /** The Docker label filter that lists this controller's containers: `berth.controller=ID`. */
  readonly filter: string;
  /** True when the container (its labels) is this controller's. */
  owns(container: { readonly labels: Readonly<Record<string, string>> }): boolean;
}

export function ownership(keys: LabelKeys, controllerId: string): Ownership {
  return {
    keys,
    controllerId,
    filter: `${keys.controller}=${controllerId}`,
    owns: (container) => container.labels[keys.controller] === controllerId,
  };
}
