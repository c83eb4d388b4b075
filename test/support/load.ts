/** The spec files as `berth validate` sees them: loaded, then checked across files. */
import type { Profile } from "../../src/core/policy/policy.js";
import { type SpecLoader, validateLoad } from "../../src/manifest/loader.js";

export async function loadChecked(loader: SpecLoader, profile: Profile = "baseline") {
  const load = await loader.load();
  return { ...load, ...validateLoad(load, profile) };
}
