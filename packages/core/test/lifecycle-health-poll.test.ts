/**
 * The lifecycle's health loop sees readiness within 50 ms of the service being ready, however long
 * the service took (issue 15: a backoff to 1 s made runs bimodal). Fake timers make "when" exact:
 * the service (FakeBackend/FakePlugin, as in lifecycle.test.ts) reports healthy from a given
 * moment, and the test reads the fake clock at the check that first saw it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { healthPollMs, ServiceLifecycle } from "../src/lifecycle.js";
import { FakeBackend, FakePlugin, startContext } from "./fake-backend.js";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts a service that is ready `readyAfterMs` after its health wait began; returns how late the loop saw it. */
async function lateness(readyAfterMs: number, checkMs = 0): Promise<{ lateMs: number; checks: number }> {
  let readyAt = 0;
  let seenAt = 0;
  const plugin = new FakePlugin({
    healthCheck: async (_h, call) => {
      if (call === 1) readyAt = Date.now() + readyAfterMs;
      if (checkMs) await new Promise((r) => setTimeout(r, checkMs));
      if (Date.now() < readyAt) return { status: "unhealthy", reason: "not yet" };
      seenAt = Date.now();
      return { status: "healthy" };
    },
  });
  const backend = new FakeBackend();
  const lc = new ServiceLifecycle({ service: "db", pluginType: "fake", plugin, timeouts: { startMs: 0, healthMs: 120_000 } });
  const started = lc.start(startContext(backend));
  await vi.advanceTimersByTimeAsync(readyAfterMs + 2_000);
  await started;
  await lc.stop();
  return { lateMs: seenAt - readyAt, checks: plugin.healthChecks };
}

describe("ServiceLifecycle: the health loop's cadence", () => {
  // 790 ms was 760 ms late with the old 50→1000 ms backoff (checks at 0, 50, 150, 350, 750, 1550 ms).
  for (const readyAfterMs of [30, 160, 790, 1_560, 4_990]) {
    it(`a service ready after ${readyAfterMs} ms is seen within 50 ms`, async () => {
      const { lateMs } = await lateness(readyAfterMs);
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThanOrEqual(50);
    });
  }

  it("a check that takes 30 ms still sees readiness within 50 ms of the period", async () => {
    const { lateMs } = await lateness(1_234, 30);
    // The check that sees it starts at most one period plus one check after readiness.
    expect(lateMs).toBeLessThanOrEqual(30 + 30 + 25);
  });

  it("polls less often once a service has taken long (a model loading): 100 ms after 5 s, 500 ms after 30 s", async () => {
    expect([0, 4_999, 5_000, 29_999, 30_000, 600_000].map(healthPollMs)).toEqual([25, 25, 100, 100, 500, 500]);
    const { lateMs, checks } = await lateness(40_000);
    expect(lateMs).toBeLessThanOrEqual(500);
    // 200 checks in the first 5 s, 250 up to 30 s, 20 more: a bounded cost for a slow service.
    expect(checks).toBeLessThan(200 + 250 + 25);
  });
});
