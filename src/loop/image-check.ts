/**
 * Tag updates by digest (docs/images.md, Tag updates): for every spec with `imagePullPolicy:
 * Always` and a tag (not a `@sha256:` pin), the engine asks the registry which digest the tag
 * names now (`GET /distribution/{name}/json`, with the pull's credentials). A tag is asked once
 * when first seen — so every `berth apply` and every start of `berth run` looks — and again each
 * `--image-check` interval. The answers are an input of the plan (ObservedState.registryDigests):
 * the planner itself stays pure. A failed check keeps the last answer and is logged once per
 * failure streak; it never fails the pass.
 */
import type { Logger } from "pino";
import { followsTag, normalizeImageRef } from "../core/image-ref.js";
import type { RegistryAuth } from "../core/registry.js";
import type { NormalizedSpec } from "../core/spec.js";
import type { DockerPort } from "../docker/port.js";

interface Known {
  readonly digest: string | null;
  readonly checkedAt: number;
  readonly failing: boolean;
}

/** How soon a failed check is tried again. */
const RETRY_MS = 60_000;

export interface ImageCheckOptions {
  /** --image-check: how often a tag is asked again; null: once per process. */
  readonly intervalMs: number | null;
}

export class ImageCheck {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly docker: DockerPort,
    private readonly auth: RegistryAuth | null,
    private readonly log: Logger,
    private readonly options: ImageCheckOptions,
  ) {}

  /** The digest each followed tag names now (normalized reference → sha256:…), asking where due. */
  async digests(specs: readonly NormalizedSpec[], now: number): Promise<ReadonlyMap<string, string>> {
    const tags = new Map<string, NormalizedSpec>();
    for (const spec of specs) if (followsTag(spec)) tags.set(normalizeImageRef(spec.image), spec);
    await Promise.all([...tags].filter(([ref]) => this.due(ref, now)).map(([ref, spec]) => this.check(ref, spec, now)));
    const out = new Map<string, string>();
    for (const ref of tags.keys()) {
      const digest = this.known.get(ref)?.digest;
      if (digest) out.set(ref, digest);
    }
    return out;
  }

  private due(ref: string, now: number): boolean {
    const known = this.known.get(ref);
    if (known === undefined) return true;
    // A failed check is asked again within a minute, whatever the interval.
    const interval = known.failing ? Math.min(this.options.intervalMs ?? RETRY_MS, RETRY_MS) : this.options.intervalMs;
    return interval !== null && now - known.checkedAt >= interval;
  }

  /**
   * Asks now, for a create of a followed tag about to pull it: the digest its container is labelled
   * with. Kept as the known answer too, so that the plan compares the new container with what it
   * was made from. null: the registry could not say (the label is left off).
   */
  async resolve(spec: NormalizedSpec, now: number): Promise<string | null> {
    const ref = normalizeImageRef(spec.image);
    await this.check(ref, spec, now);
    const known = this.known.get(ref);
    return known && !known.failing ? known.digest : null;
  }

  private async check(ref: string, spec: NormalizedSpec, now: number): Promise<void> {
    const before = this.known.get(ref);
    try {
      const auth = this.auth ? await this.auth.lookup(spec.image, spec.imagePullSecret) : null;
      const digest = await this.docker.registryDigest(ref, auth?.credentials ?? null);
      if (before?.digest && before.digest !== digest)
        this.log.info({ image: ref, from: before.digest, to: digest }, "image tag moved");
      this.known.set(ref, { digest, checkedAt: now, failing: false });
    } catch (err) {
      if (!before?.failing) this.log.warn({ image: ref, err }, "image check failed; keeping the last known digest");
      this.known.set(ref, { digest: before?.digest ?? null, checkedAt: now, failing: true });
    }
  }
}
