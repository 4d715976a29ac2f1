import { InternalError } from "./errors.js";

/** completed: a one-shot service whose command exited 0 before it was ready (its start succeeded). */
export type LifecycleState = "initialized" | "starting" | "running" | "completed" | "stopping" | "stopped" | "failed";

const NEXT: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  initialized: ["starting", "stopped"],
  starting: ["running", "completed"],
  running: ["stopping"],
  completed: ["stopping"],
  stopping: ["stopped"],
  stopped: [],
  failed: [],
};

/** Initialized → Starting → Running (or Completed) → Stopping → Stopped; any state may go to Failed. */
export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  if (to === "failed") return from !== "failed";
  return NEXT[from].includes(to);
}

export class StateMachine {
  #state: LifecycleState = "initialized";
  readonly #history: LifecycleState[] = ["initialized"];
  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  get history(): readonly LifecycleState[] {
    return this.#history;
  }

  /** Moves to `to`, or throws an InternalError naming both states. */
  transition(to: LifecycleState): void {
    if (!canTransition(this.#state, to)) {
      throw new InternalError(`service '${this.#name}': invalid lifecycle transition ${this.#state} → ${to}`);
    }
    this.#state = to;
    this.#history.push(to);
  }
}
