/**
 * The controller's hash key (docs/design.md, "The spec hash"): 32 random bytes that secret values
 * enter the spec hash under (HMAC-SHA256), so that the hash — a container label, shown by
 * `berth status` and the API — cannot be used to check a guessed secret offline.
 *
 * berth keeps no state of its own: the key lives in the engine, as a label of a Docker volume
 * named `<prefix>-hash-key.<id>` that carries the controller label. `berth run` and `apply`
 * create it the first time a spec with secrets needs it (creating a volume whose name is taken
 * keeps the existing one, and the key is always read back from the engine, so two racing
 * creators agree); `plan`, `status` and `reap` only read it. Where it does not exist no berth of
 * this id has made keyed hashes yet, and the unkeyed digest applies — which is also what the
 * containers made by versions before keyed hashes carry.
 *
 * The key is never logged, shown, put in an error or on a container.
 */
import { randomBytes } from "node:crypto";
import { BerthError } from "../core/errors.js";
import type { Ownership } from "../core/ownership.js";
import { keyedDigest, type SecretDigest, UNKEYED_DIGEST } from "../core/secrets.js";
import type { DockerPort } from "../docker/port.js";

const KEY_BYTES = 32;
const KEY_RE = /^[0-9a-f]{64}$/;

/** The volume that holds a controller's key. */
export function hashKeyVolume(labelPrefix: string, controllerId: string): string {
  return `${labelPrefix}-hash-key.${controllerId}`;
}

/** The volume label holding the key (64 hex digits). */
export function hashKeyLabel(labelPrefix: string): string {
  return `${labelPrefix}.hash-key`;
}

export type HashKeyMode = "create" | "read";

export class HashKey {
  /** Set once the key is known (never the key itself outside the digest's closure). */
  private known: SecretDigest | null = null;
  private loading: Promise<SecretDigest> | null = null;

  constructor(
    private readonly docker: Pick<DockerPort, "inspectVolume" | "createVolume">,
    private readonly owner: Ownership,
    private readonly labelPrefix: string,
    private readonly mode: HashKeyMode,
  ) {}

  /** The digest secret values enter the spec hash with; the key is read (or made) at the first call. */
  readonly digest = (): Promise<SecretDigest> => {
    if (this.known) return Promise.resolve(this.known);
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  };

  private async load(): Promise<SecretDigest> {
    const name = hashKeyVolume(this.labelPrefix, this.owner.controllerId);
    const label = hashKeyLabel(this.labelPrefix);
    let volume = await this.docker.inspectVolume(name);
    if (volume === null && this.mode === "create") {
      await this.docker.createVolume(name, {
        [this.owner.keys.controller]: this.owner.controllerId,
        [label]: randomBytes(KEY_BYTES).toString("hex"),
      });
      // Read back what the engine holds: a creator that raced us may have won.
      volume = await this.docker.inspectVolume(name);
    }
    if (volume === null) {
      // No key yet (plan, status and reap never make one): the unkeyed digest. A one-shot look
      // keeps that answer for its one pass.
      if (this.mode === "read") this.known = UNKEYED_DIGEST;
      return UNKEYED_DIGEST;
    }
    const key = volume.labels[label];
    if (
      volume.labels[this.owner.keys.controller] !== this.owner.controllerId ||
      key === undefined ||
      !KEY_RE.test(key)
    ) {
      throw BerthError.terminal(
        "BERTH_HASH_KEY",
        `the volume ${name}, which holds berth's hash key, is not one berth made for controller ${this.owner.controllerId} ` +
          `(its ${this.owner.keys.controller} or ${label} label is missing or malformed); remove it (docker volume rm ${name}) ` +
          "and berth makes a new key — containers with secretEnv are then replaced once",
        name,
      );
    }
    this.known = keyedDigest(Buffer.from(key, "hex"));
    return this.known;
  }
}
