import { ContainerError, TimeoutError } from "@clnrm/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deadlineFor, logTail, waitUntilReady } from "../src/index.js";
import { pollEveryMs } from "../src/wait.js";
import { captureLog, fakeContainer, fakeStartContext } from "../src/testing.js";

const LOG = Array.from({ length: 14 }, (_, i) => `line ${i + 1}`).join("\n");

describe("waitUntilReady", () => {
  it("reports progress periodically, then returns when the check passes", async () => {
    const log = captureLog();
    let n = 0;
    const t0 = Date.now();
    await waitUntilReady({
      ctx: fakeStartContext({ log }),
      container: fakeContainer({ log: LOG }),
      deadline: Date.now() + 5_000,
      what: "vllm to load facebook/opt-125m",
      progressEveryMs: 300,
      check: async () => (++n && Date.now() - t0 >= 700 ? true : "not yet"),
    });
    expect(n).toBeGreaterThan(6);
    expect(log.lines.length).toBeGreaterThanOrEqual(2);
    for (const l of log.lines) expect(l).toMatch(/^waiting for vllm to load facebook\/opt-125m \(\d+ s\)$/);
  });

  it("times out with the last reason (a thrown check counts) and the last 10 log lines on one line", async () => {
    const container = fakeContainer({ log: LOG });
    let n = 0;
    const err = await waitUntilReady({
      ctx: fakeStartContext(),
      container,
      deadline: Date.now() + 300,
      what: "x",
      timeoutMessage: "model 'm' never appeared",
      check: async () => {
        if (++n % 2) throw new Error("connect ECONNREFUSED");
        return "listed: none";
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(
      /^model 'm' never appeared: (listed: none|connect ECONNREFUSED); last log lines: line 5 \| line 6 \| line 7 \| line 8 \| line 9 \| line 10 \| line 11 \| line 12 \| line 13 \| line 14$/,
    );
    expect((err as TimeoutError & { hint?: string }).hint).toBe("raise the service's startup_timeout, or check the container log");
    expect(await logTail(container, 2)).toBe("line 13 | line 14");
  });

  it("fails at once when the container exits", async () => {
    const started = Date.now();
    const container = fakeContainer({ running: () => Date.now() - started < 200, log: "loading\nOSError: boom", exitCode: 3 });
    const err = await waitUntilReady({
      ctx: fakeStartContext(),
      container,
      deadline: Date.now() + 10_000,
      what: "tgi to load m",
      check: async () => "connection refused",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe("container exited with code 3 while waiting for tgi to load m; last log lines: loading | OSError: boom");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops when the start is cancelled", async () => {
    const ac = new AbortController();
    const reason = new Error("cancelled by test");
    setTimeout(() => ac.abort(reason), 150);
    const err = await waitUntilReady({
      ctx: fakeStartContext({ signal: ac.signal }),
      container: fakeContainer(),
      deadline: Date.now() + 10_000,
      what: "x",
      check: async () => "no",
    }).catch((e: unknown) => e);
    expect(err).toBe(reason);
  });
});

describe("waitUntilReady: the cadence (fake timers: the clock at the check that first passed)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  async function lateness(readyAfterMs: number) {
    vi.useFakeTimers({ now: 1_000_000 });
    const readyAt = Date.now() + readyAfterMs;
    let seenAt = 0;
    let checks = 0;
    let states = 0;
    const container = fakeContainer({ running: () => ++states > 0 });
    const done = waitUntilReady({
      ctx: fakeStartContext(),
      container,
      deadline: Date.now() + 120_000,
      what: "x",
      check: async () => {
        checks++;
        if (Date.now() < readyAt) return "not yet";
        seenAt = Date.now();
        return true;
      },
    });
    await vi.advanceTimersByTimeAsync(readyAfterMs + 1_000);
    await done;
    return { lateMs: seenAt - readyAt, checks, states };
  }

  // With the old backoff (100 ms doubling to 1 s: checks at 0, 100, 300, 700, 1500, 2500 ms), a
  // server ready after 720 ms was seen 780 ms late.
  for (const readyAfterMs of [40, 320, 720, 1_520, 4_980]) {
    it(`a server ready after ${readyAfterMs} ms is seen within 50 ms`, async () => {
      const { lateMs } = await lateness(readyAfterMs);
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThanOrEqual(50);
    });
  }

  it("reads the container's state every 250 ms, not at every check; polls less often after 5 s and 30 s", async () => {
    const { checks, states } = await lateness(2_000);
    expect(checks).toBeGreaterThanOrEqual(70);
    expect(states).toBeLessThanOrEqual(9);
    expect([0, 4_999, 5_000, 29_999, 30_000].map(pollEveryMs)).toEqual([25, 25, 100, 100, 500]);
  });
});

describe("logTail", () => {
  it("drops blank lines, trims, shortens long lines; empty log: empty string", async () => {
    const long = "x".repeat(300);
    expect(await logTail(fakeContainer({ log: `  a  \n\n${long}\r\nb\n` }))).toBe(`a | ${"x".repeat(197)}... | b`);
    expect(await logTail(fakeContainer())).toBe("");
  });
});

describe("deadlineFor", () => {
  it("ends a little before the lifecycle's start timeout", () => {
    expect(deadlineFor(fakeStartContext({ startupTimeoutMs: 60_000 }), 0)).toBe(57_000);
    expect(deadlineFor(fakeStartContext({ startupTimeoutMs: 15 * 60_000 }), 0)).toBe(15 * 60_000 - 5_000);
    expect(deadlineFor(fakeStartContext({ startupTimeoutMs: 2_000 }), 0)).toBe(1_500);
    expect(deadlineFor(fakeStartContext({ startupTimeoutMs: 0 }), 0)).toBe(15 * 60_000 - 5_000);
  });
});
