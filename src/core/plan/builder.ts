/** Collects a plan as the planner decides it: actions in order, notes, and the next wake-up. */
import type { Action, Note, Plan } from "./types.js";

export class PlanBuilder {
  private readonly actions: Action[] = [];
  private readonly notes: Note[] = [];
  private nextWakeAt: number | null = null;

  constructor(private readonly now: number) {}

  act(action: Action): void {
    this.actions.push(action);
  }

  /** The actions decided so far, in order. */
  get planned(): readonly Action[] {
    return this.actions;
  }

  /** Takes back the actions of `spec` that `which` selects; true when there were any. */
  drop(spec: string, which: (action: Action) => boolean): boolean {
    const before = this.actions.length;
    const kept = this.actions.filter((a) => a.spec !== spec || !which(a));
    this.actions.splice(0, this.actions.length, ...kept);
    return kept.length < before;
  }

  note(note: Note): void {
    this.notes.push(note);
  }

  hasNote(kind: Note["kind"]): boolean {
    return this.notes.some((n) => n.kind === kind);
  }

  /** Plan again at `at` (an expiry), if it is the earliest time in the future so far. */
  wakeAt(at: number): void {
    if (at > this.now && (this.nextWakeAt === null || at < this.nextWakeAt)) this.nextWakeAt = at;
  }

  build(): Plan {
    return { actions: this.actions, notes: this.notes, nextWakeAt: this.nextWakeAt };
  }
}
