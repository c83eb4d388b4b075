/**
 * Where a command without --ha finds the `--ha` participants of its controller id on this host
 * (core/writers.ts): each participant listens, for as long as it runs, on
 * `<state-dir>/<id>.ha/<pid>.<random>.sock` and answers every connection as the host lock does —
 * who it is — and with what it knows of the lease (the leader, the term, the store). And where a
 * participant finds a process without --ha: the id's host lock, `<state-dir>/<id>.sock`.
 *
 * A socket whose connection is refused is a participant that died (kill -9): it is removed when
 * met, as a stale host lock is (host/lock.ts removeStaleSocket: asked again under the recovery
 * guard first, so a participant that bound its socket a moment before listening keeps it).
 */
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { BerthError } from "../core/errors.js";
import { type PresenceAnswer, presenceBlocks, type PresenceLease, presenceLease } from "../core/writers.js";
import {
  acquireHostLock,
  ask,
  describeHolder,
  type HostLock,
  parseHolder,
  prepareStateDir,
  removeStaleSocket,
} from "./lock.js";

const ANSWER_TIMEOUT_MS = 2_000;

export interface ParticipantOptions {
  /** The state folder, resolved (host/lock.ts resolveStateDir). */
  readonly stateDir: string;
  readonly controllerId: string;
  /** What it runs, e.g. `run --ha`. */
  readonly command: string;
  readonly version: string;
  /** What it knows of the lease now. */
  readonly lease: () => PresenceLease;
}

function presenceDir(stateDir: string, controllerId: string): string {
  return path.join(stateDir, `${controllerId}.ha`);
}

/** Registers this process as an --ha participant of its id; released at its end (or with it). */
export async function registerParticipant(options: ParticipantOptions): Promise<HostLock> {
  const dir = await prepareStateDir(presenceDir(options.stateDir, options.controllerId));
  return acquireHostLock({
    stateDir: dir,
    controllerId: `${process.pid}.${randomBytes(3).toString("hex")}`,
    command: options.command,
    version: options.version,
    describe: () => ({ ...options.lease() }),
  });
}

/** The participants of this id that keep a command without --ha from writing: one that leads, sees a leader, or does not answer. */
export async function blockingParticipants(stateDir: string, controllerId: string): Promise<PresenceAnswer[]> {
  const answers = await participants(stateDir, controllerId);
  return answers.map((a) => a.answer).filter(presenceBlocks);
}

/** What the other participants of this id say, each with its socket (`self`: this process's, left out). */
export async function otherParticipants(
  stateDir: string,
  controllerId: string,
  self: string,
): Promise<{ socketPath: string; answer: PresenceAnswer }[]> {
  return (await participants(stateDir, controllerId)).filter((p) => p.socketPath !== self);
}

/** Asks every participant socket of this id; removes those of participants that died. */
async function participants(
  stateDir: string,
  controllerId: string,
): Promise<{ socketPath: string; answer: PresenceAnswer }[]> {
  const dir = presenceDir(stateDir, controllerId);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw BerthError.usage(`cannot look for --ha participants in ${dir}: ${(err as Error).message}`);
  }
  const answers = await Promise.all(
    names
      .filter((name) => name.endsWith(".sock"))
      .map(async (name): Promise<{ socketPath: string; answer: PresenceAnswer } | null> => {
        const socketPath = path.join(dir, name);
        const answer = await ask(socketPath, ANSWER_TIMEOUT_MS);
        switch (answer.kind) {
          case "silent":
            return {
              socketPath,
              answer: { kind: "silent", who: `an --ha participant that listens on ${socketPath} but does not answer` },
            };
          case "answered": {
            const info = parseHolder(answer.text);
            const lease = info ? presenceLease(info) : null;
            return { socketPath, answer: { kind: "answered", who: describeHolder(answer.text), lease } };
          }
          case "refused":
            // Killed (kill -9) without closing it: nothing listens; without this they pile up.
            await removeStaleSocket(socketPath, ANSWER_TIMEOUT_MS).catch(() => undefined);
            return null;
          case "gone":
          case "failed":
            return null;
        }
      }),
  );
  return answers.filter((a) => a !== null);
}

/** Who holds the id's host lock (a berth without --ha), in words, or null when no one does. */
export async function hostLockHolder(stateDir: string, controllerId: string): Promise<string | null> {
  const socketPath = path.join(stateDir, `${controllerId}.sock`);
  const answer = await ask(socketPath, ANSWER_TIMEOUT_MS);
  switch (answer.kind) {
    case "answered":
      return describeHolder(answer.text);
    case "silent":
      return `a process that listens on ${socketPath} but does not answer`;
    case "failed":
      // Not knowing is not "free".
      return `the lock ${socketPath}, which cannot be looked at (${answer.message})`;
    case "refused":
    case "gone":
      return null;
  }
}
