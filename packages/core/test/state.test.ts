import { describe, expect, it } from "vitest";
import { InternalError } from "../src/errors.js";
import { canTransition, type LifecycleState, StateMachine } from "../src/state.js";

const ALL: LifecycleState[] = ["initialized", "starting", "running", "completed", "stopping", "stopped", "failed"];
const VALID: [LifecycleState, LifecycleState][] = [
  ["initialized", "starting"],
  ["initialized", "stopped"],
  ["starting", "running"],
  ["starting", "completed"],
  ["running", "stopping"],
  ["completed", "stopping"],
  ["stopping", "stopped"],
];

/** Drives a fresh machine to `state` along valid transitions. */
function machineIn(state: LifecycleState): StateMachine {
  const m = new StateMachine("svc");
  const path: Record<LifecycleState, LifecycleState[]> = {
    initialized: [],
    starting: ["starting"],
    running: ["starting", "running"],
    completed: ["starting", "completed"],
    stopping: ["starting", "running", "stopping"],
    stopped: ["starting", "running", "stopping", "stopped"],
    failed: ["failed"],
  };
  for (const s of path[state]) m.transition(s);
  expect(m.state).toBe(state);
  return m;
}

describe("StateMachine", () => {
  it("starts initialized with that state in its history", () => {
    const m = new StateMachine("db");
    expect(m.state).toBe("initialized");
    expect(m.history).toEqual(["initialized"]);
  });

  it.each(VALID)("allows %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    const m = machineIn(from);
    m.transition(to);
    expect(m.state).toBe(to);
  });

  const invalid = ALL.flatMap((from) =>
    ALL.filter((to) => to !== "failed" && !VALID.some(([f, t]) => f === from && t === to)).map((to) => [from, to] as const),
  );

  it.each(invalid)("rejects %s → %s with an error naming both states", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    const m = machineIn(from);
    const historyBefore = [...m.history];
    let caught: unknown;
    try {
      m.transition(to);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InternalError);
    const e = caught as InternalError;
    expect(e.code).toBe("CLNRM_ERR_INTERNAL");
    expect(e.message).toContain(`${from} → ${to}`);
    expect(e.message).toContain("'svc'");
    // A rejected transition changes nothing.
    expect(m.state).toBe(from);
    expect(m.history).toEqual(historyBefore);
  });

  it.each(ALL.filter((s) => s !== "failed"))("allows %s → failed", (from) => {
    expect(canTransition(from, "failed")).toBe(true);
    const m = machineIn(from);
    m.transition("failed");
    expect(m.state).toBe("failed");
  });

  it.each(ALL)("rejects failed → %s", (to) => {
    expect(canTransition("failed", to)).toBe(false);
    const m = machineIn("failed");
    expect(() => m.transition(to)).toThrow(`failed → ${to}`);
    expect(m.state).toBe("failed");
  });

  it("records the full history in order", () => {
    const m = new StateMachine("db");
    m.transition("starting");
    m.transition("running");
    m.transition("stopping");
    m.transition("stopped");
    expect(m.history).toEqual(["initialized", "starting", "running", "stopping", "stopped"]);

    const f = new StateMachine("db");
    f.transition("starting");
    f.transition("failed");
    expect(f.history).toEqual(["initialized", "starting", "failed"]);
  });
});
