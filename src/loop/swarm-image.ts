/**
 * The image of a service create or update under `--target swarm` (docs/swarm.md, "Images and
 * registry credentials"), as `docker service create --with-registry-auth` sends it: the
 * credentials of the engine target's resolution (--registry-auth-file, Docker's config.json,
 * credential helpers, imagePullSecret) go with the call as X-Registry-Auth, so that every node
 * pulls with them; and the tag is pinned to the digest the registry serves, so that every node
 * runs the same image. A registry that refuses berth's credentials (or their absence) fails the
 * operation with the engine target's actionable message, instead of tasks stuck on "No such image".
 */
import type { Logger } from "pino";
import { normalizeImageRef } from "../core/image-ref.js";
import {
  type CredentialLookup,
  DOCKER_HUB,
  isDeniedPull,
  type RegistryAuth,
  type RegistryCredentials,
  registryOf,
} from "../core/registry.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { ServiceSpec } from "../core/swarm-service.js";
import type { DockerPort } from "../docker/port.js";
import { pullError } from "./executor.js";

/** What a service call sends for its image. Never logged: `credentials` is a secret. */
export interface ServiceImage {
  /** The reference the tasks run: the spec's, `@sha256:…` added when the registry named a digest. */
  readonly image: string;
  /** X-Registry-Auth of the call, or null: the nodes pull without credentials. */
  readonly credentials: RegistryCredentials | null;
}

export class SwarmImages {
  constructor(
    private readonly docker: Pick<DockerPort, "registryDigest">,
    private readonly auth: RegistryAuth,
    private readonly log: Logger,
  ) {}

  async resolve(spec: NormalizedSpec): Promise<ServiceImage> {
    const lookup = await this.auth.lookup(spec.image, spec.imagePullSecret);
    const credentials = lookup.credentials;
    if (spec.image.includes("@")) return { image: spec.image, credentials };
    try {
      const digest = await this.docker.registryDigest(normalizeImageRef(spec.image), credentials);
      return { image: `${spec.image}@${digest}`, credentials };
    } catch (err) {
      if (refused(spec.image, err, lookup)) throw pullError(spec.image, err, lookup);
      // As docker service create: an image no registry answers for (built or loaded on the nodes,
      // or a registry out of reach from the manager) goes unpinned; each node resolves the tag.
      this.log.debug({ image: spec.image, err }, "image not pinned");
      return { image: spec.image, credentials };
    }
  }
}

/**
 * A refusal berth can act on: the registry said no to the credentials berth sent, or to none for a
 * registry named in the reference. Docker Hub answers "denied" for a repository that does not
 * exist too — an image that lives only on the nodes — so without credentials that goes on.
 */
function refused(image: string, err: unknown, lookup: CredentialLookup): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return isDeniedPull(message) && (lookup.credentials !== null || registryOf(image) !== DOCKER_HUB);
}

/** The service body with the image the tasks run. */
export function withImage(spec: ServiceSpec, image: string): ServiceSpec {
  const task = spec.TaskTemplate;
  return { ...spec, TaskTemplate: { ...task, ContainerSpec: { ...task.ContainerSpec, Image: image } } };
}
