/**
 * Tag updates by digest (docs/images.md, Tag updates): for every spec with `imagePullPolicy:
 * Always` and a tag (not a `@sha256:` pin), the engine asks the registry which digest the tag
 * names now (`GET /distribution/{name}/json`, with the pull's credentials). A tag is asked once
 * when first seen — so every `berth apply` and every start of `berth run` looks — and again each
 * `--image-check` interval. The answers are an input of the plan (ObservedState.registryDigests):
 * the planner itself stays pure. A failed check keeps the last answer and is logged once per
 * failure streak; it never fails the pass.
 *
 * A one-shot command waits for every answer. The controller (`berth run`) waits a moment only
 * (answerLate): a registry that does not answer, or a credential helper that hangs, must not hold
 * up every other spec's pass for its timeout. An answer that comes later asks for a pass of its own.
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
  /** Checks under way, by reference: a pass joins one rather than asking again. */
  private readonly asking = new Map<string, Promise<void>>();
  /** Under way when a pass stopped waiting for them: their answer asks for a pass. */
  private readonly late = new Set<string>();
  /** null: wait for every answer; else how long, and whom to tell of an answer after that. */
  private lateness: {
    readonly waitMs: number;
    readonly wait: (ms: number) => Promise<void>;
    readonly onAnswer: () => void;
  } | null = null;

  constructor(
    private readonly docker: DockerPort,
    private readonly auth: RegistryAuth | null,
    private readonly log: Logger,
    private readonly options: ImageCheckOptions,
  ) {}

  /**
   * Waits at most `waitMs` for an answer in a pass; one that comes later calls `onAnswer` (to ask
   * for a pass). `wait` sleeps on the controller's clock.
   */
  answerLate(waitMs: number, wait: (ms: number) => Promise<void>, onAnswer: () => void): void {
    this.lateness = { waitMs, wait, onAnswer };
  }

  /** The digest each followed tag names now (normalized reference → sha256:…), asking where due. */
  async digests(specs: readonly NormalizedSpec[], now: number): Promise<ReadonlyMap<string, string>> {
    const tags = new Map<string, NormalizedSpec>();
    for (const spec of specs) if (followsTag(spec)) tags.set(normalizeImageRef(spec.image), spec);
    const refs = [...tags].filter(([ref]) => this.asking.has(ref) || this.due(ref, now));
    const answers = refs.map(([ref, spec]) => this.ask(ref, spec, now));
    const lateness = this.lateness;
    if (lateness === null) await Promise.all(answers);
    else {
      const all = Promise.all(answers).then(() => true);
      if (!(await Promise.race([all, lateness.wait(lateness.waitMs).then(() => false)])))
        for (const [ref] of refs) if (this.asking.has(ref)) this.late.add(ref);
    }
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
    await this.ask(ref, spec, now);
    const known = this.known.get(ref);
    return known && !known.failing ? known.digest : null;
  }

  /** The check of `ref` under way, or a new one. */
  private ask(ref: string, spec: NormalizedSpec, now: number): Promise<void> {
    const under = this.asking.get(ref);
    if (under) return under;
    const asked = this.check(ref, spec, now).finally(() => {
      this.asking.delete(ref);
      if (this.late.delete(ref)) this.lateness?.onAnswer();
    });
    this.asking.set(ref, asked);
    return asked;
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
