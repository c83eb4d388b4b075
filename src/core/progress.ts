/**
 * What an image pull or build reports while it runs, as the engine streams it: one event per
 * message of the engine's JSON stream (a layer's status and bytes for a pull, a line of output
 * for a build). Consumers (apply's progress view, events, build logs) decide what to show.
 */
export interface ImageProgress {
  readonly phase: "pull" | "build";
  /** The image reference being pulled or the tag being built. */
  readonly image: string;
  /** A layer's id for a pull; absent for a build's output lines and whole-image messages. */
  readonly id?: string;
  /** The engine's status text ("Downloading", "Pull complete", a build's output line). */
  readonly status: string;
  /** Bytes done and in all for a layer, when the engine says. */
  readonly current?: number;
  readonly total?: number;
}

/** Receives progress; must not throw and must return quickly (it runs on the stream's turn). */
export type ProgressSink = (event: ImageProgress) => void;

/**
 * What the loop tells its surfaces of one spec's image work: a pull (or build) started, each of
 * its progress events, and its end. apply's progress view renders it; the loop never does.
 */
export type ImageActivity =
  | { readonly kind: "started"; readonly spec: string; readonly phase: ImageProgress["phase"]; readonly image: string }
  | { readonly kind: "progress"; readonly spec: string; readonly event: ImageProgress }
  | {
      readonly kind: "finished";
      readonly spec: string;
      readonly phase: ImageProgress["phase"];
      readonly image: string;
      readonly ok: boolean;
      readonly durationMs: number;
    };
