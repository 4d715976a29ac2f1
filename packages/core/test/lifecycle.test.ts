/**
 * ServiceLifecycle against an in-memory ContainerBackend (see fake-backend.ts for why a fake is
 * right here: these tests check the lifecycle's state machine, retry, timeout and cleanup logic,
 * not Docker).
 */
import { describe, expect, it, vi } from "vitest";
import { ContainerError, HealthError, InternalError, TimeoutError, ValidationError } from "../src/errors.js";
import { HealthStatus } from "../src/health.js";
import { backoffDelay, completedServiceStepFailure, DEFAULT_RETRY, DEFAULT_TIMEOUTS, fmtMs, handleProblem, ResourceScope, ServiceLifecycle, sleep, withTimeout } from "../src/lifecycle.js";
import type { LifecycleState } from "../src/state.js";
import { aborted, delay, FakeBackend, FakePlugin, type FakePluginHooks, recordingLog, runOne, startContext } from "./fake-backend.js";

function setup(hooks: FakePluginHooks = {}, options: Partial<ConstructorParameters<typeof ServiceLifecycle>[0]> = {}) {
  const backend = new FakeBackend();
  const plugin = new FakePlugin(hooks);
  const states: LifecycleState[] = [];
  const lifecycle = new ServiceLifecycle({
    service: "db",
    pluginType: "fake",
    plugin,
    onStateChange: (s, svc) => {
      expect(svc).toBe("db");
      states.push(s);
    },
    ...options,
  });
  return { backend, plugin, lifecycle, states };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("ServiceLifecycle: happy path", () => {
  it("goes initialized → starting → running → stopping → stopped and returns the handle", async () => {
    const { backend, plugin, lifecycle, states } = setup();
    expect(lifecycle.state).toBe("initialized");
    const handle = await lifecycle.start(startContext(backend));

    expect(lifecycle.state).toBe("running");
    expect(states).toEqual(["starting", "running"]);
    expect(handle.service).toBe("db");
    expect(handle.outputs).toEqual({ host: "127.0.0.1", id: "c1" });
    expect(lifecycle.handle).toBe(handle);
    expect(plugin.starts).toHaveLength(1);
    const ctx = plugin.starts[0]!;
    expect(ctx.service).toBe("db");
    expect(ctx.runId).toBe("run1");
    expect(ctx.startupTimeoutMs).toBe(60_000);
    expect(ctx.signal.aborted).toBe(false);
    // The plugin gets a scoped backend, not the raw one.
    expect(ctx.backend).not.toBe(backend);
    expect(ctx.backend.name).toBe("fake");
    expect(await lifecycle.healthCheck()).toEqual({ status: "healthy" });

    await lifecycle.stop();
    expect(lifecycle.state).toBe("stopped");
    expect(states).toEqual(["starting", "running", "stopping", "stopped"]);
    expect(lifecycle.history).toEqual(["initialized", "starting", "running", "stopping", "stopped"]);
    expect(plugin.stops).toEqual([handle]);
    expect(backend.containers).toHaveLength(1);
    expect(backend.live()).toEqual([]);
  });

  it("reports unknown health before it is started", async () => {
    const { lifecycle } = setup();
    expect(await lifecycle.healthCheck()).toEqual({ status: "unknown", reason: "service is initialized" });
  });

  it("refuses to start twice", async () => {
    const { backend, lifecycle } = setup();
    await lifecycle.start(startContext(backend));
    await expect(lifecycle.start(startContext(backend))).rejects.toBeInstanceOf(InternalError);
    expect(lifecycle.state).toBe("running");
    await lifecycle.stop();
  });
});

describe("ServiceLifecycle: retries", () => {
  it("retries with backoff and removes the containers of the failed attempts", async () => {
    const retry = { attempts: 3, initialDelayMs: 40, factor: 2, maxDelayMs: 1_000 };
    const { backend, plugin, lifecycle, states } = setup(
      {
        start: async (ctx, call) => {
          const h = await runOne(ctx);
          if (call < 3) throw new ContainerError(`attempt ${call} failed`);
          return h;
        },
      },
      { retry },
    );
    const log = recordingLog();
    const t0 = performance.now();
    const handle = await lifecycle.start(startContext(backend, { log }));
    const elapsed = performance.now() - t0;

    expect(plugin.starts).toHaveLength(3);
    expect(backoffDelay(retry, 2) + backoffDelay(retry, 3)).toBe(120);
    expect(elapsed).toBeGreaterThanOrEqual(120 - 2);
    expect(lifecycle.state).toBe("running");
    expect(states).toEqual(["starting", "running"]);
    const [c1, c2, c3] = backend.containers;
    expect(backend.containers).toHaveLength(3);
    expect(c1?.removed).toBe(true);
    expect(c2?.removed).toBe(true);
    expect(c3?.removed).toBe(false);
    expect(handle.primary).toBe(c3);
    expect(log.lines).toEqual([
      "progress: retrying start (attempt 2/3) in 40 ms: attempt 1 failed",
      "progress: retrying start (attempt 3/3) in 80 ms: attempt 2 failed",
    ]);
    await lifecycle.stop();
    expect(backend.live()).toEqual([]);
  });

  it("does not retry an environment error (a missing image won't appear between attempts)", async () => {
    const { backend, plugin, lifecycle } = setup(
      {
        start: async (ctx) => {
          await runOne(ctx);
          throw new ContainerError("image 'x' not found locally and could not be pulled", { environment: true });
        },
      },
      { retry: { attempts: 3, initialDelayMs: 1, factor: 1, maxDelayMs: 1 } },
    );
    const err = await rejection(lifecycle.start(startContext(backend)));
    expect((err as ContainerError).environment).toBe(true);
    expect(plugin.starts).toHaveLength(1);
    expect(lifecycle.state).toBe("failed");
    expect(backend.live()).toEqual([]);
  });

  it("fails with the last error and leaves nothing behind when every attempt fails", async () => {
    const { backend, plugin, lifecycle, states } = setup(
      {
        start: async (ctx, call) => {
          await runOne(ctx);
          await runOne(ctx);
          throw new ValidationError(`attempt ${call} failed`);
        },
      },
      { retry: { attempts: 3, initialDelayMs: 1, factor: 1, maxDelayMs: 1 } },
    );
    const err = await rejection(lifecycle.start(startContext(backend)));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe("attempt 3 failed");
    expect(plugin.starts).toHaveLength(3);
    expect(lifecycle.state).toBe("failed");
    expect(states).toEqual(["starting", "failed"]);
    expect(backend.containers).toHaveLength(6);
    expect(backend.live()).toEqual([]);
    for (const c of backend.containers) expect(c.removeCalls).toHaveLength(1);
    expect(lifecycle.handle).toBeUndefined();
  });

  it("does not start when the run is already cancelled", async () => {
    const { backend, plugin, lifecycle } = setup();
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(lifecycle.start(startContext(backend, { signal: controller.signal })));
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toContain("'db' start was cancelled");
    expect(plugin.starts).toHaveLength(0);
    expect(lifecycle.state).toBe("failed");
  });

  it("passes a run cancellation on to the plugin's signal", async () => {
    const controller = new AbortController();
    const { backend, plugin, lifecycle } = setup({
      start: async (ctx) => {
        await runOne(ctx);
        await aborted(ctx.signal);
        throw new ContainerError("cancelled");
      },
    });
    const p = lifecycle.start(startContext(backend, { signal: controller.signal }));
    await delay(20);
    controller.abort(new Error("ctrl-c"));
    await expect(p).rejects.toThrow("ctrl-c");
    expect(plugin.starts[0]?.signal.aborted).toBe(true);
    expect(backend.live()).toEqual([]);
  });

  it("stop() after a cancelled start waits until the abandoned attempt's late container is removed", async () => {
    const controller = new AbortController();
    const { backend, lifecycle } = setup({
      start: async (ctx) => {
        await delay(150); // still creating when the run is cancelled
        await runOne(ctx);
        throw new ContainerError("too late");
      },
    });
    const p = lifecycle.start(startContext(backend, { signal: controller.signal }));
    await delay(20);
    controller.abort(new Error("ctrl-c"));
    await expect(p).rejects.toThrow("ctrl-c");
    expect(backend.containers).toHaveLength(0); // not created yet
    await lifecycle.stop();
    expect(backend.containers).toHaveLength(1); // stop waited for it ...
    expect(backend.live()).toEqual([]); // ... and it was removed
  });

  it("rejects at once on cancellation even when the plugin ignores its signal", async () => {
    const controller = new AbortController();
    const { backend, lifecycle } = setup({
      start: async (ctx) => {
        await runOne(ctx);
        await delay(5_000);
        throw new ContainerError("too late");
      },
    });
    const p = lifecycle.start(startContext(backend, { signal: controller.signal }));
    await delay(20);
    const t0 = performance.now();
    controller.abort(new Error("ctrl-c"));
    await expect(p).rejects.toThrow("ctrl-c");
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(lifecycle.state).toBe("failed");
    expect(backend.live()).toEqual([]);
  });
});

describe("ServiceLifecycle: start timeout", () => {
  it("times out a hanging start, aborts its signal and removes a container created after the timeout", async () => {
    let lateRun: Promise<unknown> | undefined;
    const { backend, plugin, lifecycle } = setup(
      {
        start: async (ctx) => {
          await runOne(ctx);
          await aborted(ctx.signal);
          // The plugin ignores the abort for a while, then starts another container anyway.
          await delay(30);
          lateRun = runOne(ctx, "late:1").catch((e: unknown) => e);
          return new Promise(() => {});
        },
      },
      { timeouts: { startMs: 100 } },
    );
    const t0 = performance.now();
    const err = await rejection(lifecycle.start(startContext(backend)));
    const elapsed = performance.now() - t0;

    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("CLNRM_ERR_TIMEOUT");
    expect((err as TimeoutError).timeoutMs).toBe(100);
    expect((err as TimeoutError).message).toBe("service 'db' (fake) did not start within 100 ms");
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1_000);
    expect(lifecycle.state).toBe("failed");

    const signal = plugin.starts[0]!.signal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(err);
    expect(backend.containers[0]?.removed).toBe(true);

    // The late container: created after the attempt was abandoned, removed at once.
    await vi.waitFor(() => expect(lateRun).toBeDefined());
    const lateErr = await lateRun;
    expect(lateErr).toBeInstanceOf(ContainerError);
    expect((lateErr as Error).message).toContain("late container was removed");
    const late = backend.containers.find((c) => c.image === "late:1");
    expect(late?.removed).toBe(true);
    expect(backend.live()).toEqual([]);
  });

  it("counts the health wait against the start timeout", async () => {
    const { backend, lifecycle } = setup(
      { healthCheck: async () => ({ status: "unhealthy", reason: "still loading" }) },
      { timeouts: { startMs: 150, healthMs: 10_000 } },
    );
    const t0 = performance.now();
    const err = await rejection(lifecycle.start(startContext(backend)));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(lifecycle.state).toBe("failed");
    expect(backend.live()).toEqual([]);
  });

  it("does not hang on a health check that never answers", async () => {
    const { backend, lifecycle } = setup({ healthCheck: () => new Promise(() => {}) }, { timeouts: { startMs: 0, healthMs: 100 } });
    const t0 = performance.now();
    const err = await rejection(lifecycle.start(startContext(backend)));
    expect(err).toBeInstanceOf(HealthError);
    expect((err as Error).message).toContain("'db'");
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(lifecycle.state).toBe("failed");
    expect(backend.live()).toEqual([]);
  });
});

describe("ServiceLifecycle: health", () => {
  it("waits through unhealthy reports until healthy", async () => {
    const { backend, plugin, lifecycle, states } = setup({
      healthCheck: async (_h, call) => (call < 3 ? { status: "unhealthy", reason: "starting up" } : { status: "healthy" }),
    });
    await lifecycle.start(startContext(backend));
    expect(plugin.healthChecks).toBe(3);
    expect(lifecycle.state).toBe("running");
    expect(states).toEqual(["starting", "running"]);
    expect(backend.live()).toHaveLength(1);
    await lifecycle.stop();
  });

  it("fails with a HealthError carrying the reason when the service never gets healthy", async () => {
    const { backend, plugin, lifecycle } = setup(
      { healthCheck: async () => ({ status: "unhealthy", reason: "connection refused on 5432" }) },
      { timeouts: { healthMs: 200 } },
    );
    const t0 = performance.now();
    const err = await rejection(lifecycle.start(startContext(backend)));
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(HealthError);
    expect((err as HealthError).code).toBe("CLNRM_ERR_HEALTH");
    expect((err as HealthError).service).toBe("db");
    expect((err as HealthError).message).toBe("service 'db' is unhealthy after 200 ms: connection refused on 5432");
    expect(plugin.healthChecks).toBeGreaterThan(1);
    expect(elapsed).toBeLessThan(1_000);
    expect(lifecycle.state).toBe("failed");
    expect(backend.containers).toHaveLength(1);
    expect(backend.live()).toEqual([]);
  });

  it("releases containers the plugin returned but did not start through the scoped backend", async () => {
    const { backend, lifecycle } = setup(
      {
        start: async (ctx) => {
          // Started through the raw backend: only the handle tells the lifecycle about it.
          const c = await backend.run({ image: "x" }, { runId: ctx.runId, service: ctx.service });
          return { service: ctx.service, primary: c, containers: [c], outputs: {} };
        },
        healthCheck: async () => ({ status: "unhealthy", reason: "no" }),
      },
      { timeouts: { healthMs: 50 } },
    );
    await expect(lifecycle.start(startContext(backend))).rejects.toBeInstanceOf(HealthError);
    expect(backend.containers).toHaveLength(1);
    expect(backend.live()).toEqual([]);
  });
});

describe("ServiceLifecycle: plugin errors", () => {
  it("wraps a plain Error into an InternalError (CLNRM_ERR_INTERNAL) naming the service and plugin type", async () => {
    const cause = new Error("image not found: postgres:99");
    const { backend, lifecycle } = setup({
      start: async (ctx) => {
        await runOne(ctx);
        throw cause;
      },
    });
    const err = await rejection(lifecycle.start(startContext(backend)));
    expect(err).toBeInstanceOf(InternalError);
    const e = err as InternalError;
    expect(e.code).toBe("CLNRM_ERR_INTERNAL");
    expect(e.service).toBe("db");
    expect(e.message).toBe("service 'db' (fake) failed to start: image not found: postgres:99");
    expect(e.cause).toBe(cause);
    expect(backend.live()).toEqual([]);
  });

  it("wraps a thrown non-Error too", async () => {
    const { backend, lifecycle } = setup({ start: () => Promise.reject("nope") });
    await expect(lifecycle.start(startContext(backend))).rejects.toThrow("service 'db' (fake) failed to start: nope");
  });

  it("wraps a plugin start that throws synchronously", async () => {
    const { backend, lifecycle } = setup({
      start: () => {
        throw new TypeError("bad config");
      },
    });
    await expect(lifecycle.start(startContext(backend))).rejects.toBeInstanceOf(InternalError);
    expect(lifecycle.state).toBe("failed");
  });
});

describe("ServiceLifecycle: one-shot services", () => {
  it("a health check that reports completed ends the start as completed; stop removes the container", async () => {
    const { backend, lifecycle, states } = setup({ healthCheck: async () => HealthStatus.completed(0) });
    const handle = await lifecycle.start(startContext(backend));
    expect(lifecycle.state).toBe("completed");
    expect(lifecycle.completed).toEqual({ exitCode: 0 });
    expect(lifecycle.handle).toBe(handle);
    expect(await lifecycle.healthCheck()).toEqual({ status: "completed", exitCode: 0, final: true });
    await lifecycle.stop();
    expect(states).toEqual(["starting", "completed", "stopping", "stopped"]);
    expect(backend.live()).toEqual([]);
  });

  it("a running service has no completion", async () => {
    const { backend, lifecycle } = setup();
    await lifecycle.start(startContext(backend));
    expect(lifecycle.completed).toBeUndefined();
    await lifecycle.stop();
  });

  it("a step's failure names the service and says what to do, on one line", () => {
    const line = completedServiceStepFailure("init", 0);
    expect(line).toMatch(/^service 'init' is a one-shot service that completed \(exit 0\); steps need a running service — /);
    expect(line).not.toContain("\n");
  });
});

describe("ServiceLifecycle: abandoned start", () => {
  it("waits 2 s by default for an attempt whose plugin ignores its signal", () => {
    expect(DEFAULT_TIMEOUTS.abandonMs).toBe(2_000);
  });

  it("stop() waits only abandonMs for a start that ignores its signal; the late container is removed when it comes", async () => {
    let late: Promise<unknown> | undefined;
    const { backend, lifecycle } = setup(
      {
        start: async (ctx) => {
          await delay(600); // ignores ctx.signal
          late = runOne(ctx, "late:1").catch((e: unknown) => e);
          await late;
          return new Promise(() => {});
        },
      },
      { timeouts: { startMs: 50, abandonMs: 150 } },
    );
    await expect(lifecycle.start(startContext(backend))).rejects.toBeInstanceOf(TimeoutError);
    const t0 = performance.now();
    await lifecycle.stop();
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(waited).toBeLessThan(450);
    expect(backend.containers).toHaveLength(0); // not created yet: stop did not wait for it
    await vi.waitFor(() => expect(late).toBeDefined(), { timeout: 2_000 });
    expect(((await late) as Error).message).toContain("late container was removed");
    expect(backend.live()).toEqual([]);
  });
});

describe("ServiceLifecycle: stop", () => {
  it("is idempotent", async () => {
    const { backend, plugin, lifecycle, states } = setup();
    await lifecycle.start(startContext(backend));
    await lifecycle.stop();
    await lifecycle.stop();
    expect(plugin.stops).toHaveLength(1);
    expect(lifecycle.state).toBe("stopped");
    expect(states).toEqual(["starting", "running", "stopping", "stopped"]);
  });

  it("lets a concurrent second stop wait for the first to finish", async () => {
    const { backend, lifecycle } = setup({
      stop: async (handle) => {
        await delay(50);
        for (const c of handle.containers) await c.remove();
      },
    });
    await lifecycle.start(startContext(backend));
    const first = lifecycle.stop();
    await lifecycle.stop();
    // When the second stop resolves, the service is really stopped.
    expect(lifecycle.state).toBe("stopped");
    expect(backend.live()).toEqual([]);
    await first;
  });

  it("stops a service that was never started without calling the plugin", async () => {
    const { plugin, lifecycle, states } = setup();
    await lifecycle.stop();
    expect(lifecycle.state).toBe("stopped");
    expect(states).toEqual(["stopped"]);
    expect(plugin.stops).toHaveLength(0);
  });

  it("is safe after a failed start", async () => {
    const { backend, plugin, lifecycle } = setup({ start: () => Promise.reject(new Error("boom")) });
    await expect(lifecycle.start(startContext(backend))).rejects.toThrow("boom");
    await lifecycle.stop();
    await lifecycle.stop();
    expect(lifecycle.state).toBe("failed");
    expect(plugin.stops).toHaveLength(0);
  });

  it("releases containers that the plugin's stop forgot", async () => {
    const { backend, plugin, lifecycle } = setup({
      start: async (ctx) => {
        const main = await runOne(ctx);
        await runOne(ctx, "sidecar:1");
        return main;
      },
      stop: async () => {},
    });
    await lifecycle.start(startContext(backend));
    expect(backend.live()).toHaveLength(2);
    await lifecycle.stop();
    expect(plugin.stops).toHaveLength(1);
    expect(backend.live()).toEqual([]);
    expect(lifecycle.state).toBe("stopped");
  });

  it("releases everything even when the plugin's stop throws", async () => {
    const { backend, lifecycle } = setup({ stop: () => Promise.reject(new Error("daemon went away")) });
    await lifecycle.start(startContext(backend));
    await expect(lifecycle.stop()).rejects.toThrow("daemon went away");
    expect(backend.live()).toEqual([]);
    expect(lifecycle.state).not.toBe("stopping");
  });

  it("times out a hanging stop, releases the containers anyway and leaves the stopping state", async () => {
    const { backend, plugin, lifecycle, states } = setup({ stop: () => new Promise(() => {}) }, { timeouts: { stopMs: 80 } });
    await lifecycle.start(startContext(backend));
    const t0 = performance.now();
    const err = await rejection(lifecycle.stop());
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("CLNRM_ERR_TIMEOUT");
    expect((err as TimeoutError).message).toBe("service 'db' did not stop within 80 ms");
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(1_000);
    expect(backend.live()).toEqual([]);
    // Not stuck in "stopping": the stop failed.
    expect(lifecycle.state).toBe("failed");
    expect(states).toEqual(["starting", "running", "stopping", "failed"]);
    // A second stop doesn't call the plugin again, and doesn't pretend to succeed.
    await expect(lifecycle.stop()).rejects.toBe(err);
    expect(plugin.stops).toHaveLength(1);
  });
});

describe("ResourceScope", () => {
  it("tracks containers run through it and removes them all on release", async () => {
    const backend = new FakeBackend();
    const scope = new ResourceScope(backend);
    expect(scope.backend.name).toBe("fake");
    await scope.backend.run({ image: "a" }, { runId: "r", service: "s" });
    await scope.backend.run({ image: "b" }, { runId: "r", service: "s" });
    expect(scope.size).toBe(2);
    await scope.release();
    expect(scope.size).toBe(0);
    expect(backend.live()).toEqual([]);
    for (const c of backend.containers) expect(c.removeCalls).toEqual([{ timeoutMs: 0 }]);
  });

  it("removes a container that finishes starting after the release, and says so", async () => {
    const backend = new FakeBackend();
    const scope = new ResourceScope(backend);
    const pending = scope.backend.run({ image: "slow" }, { runId: "r", service: "s" });
    await scope.release();
    await expect(pending).rejects.toThrow("service 's': start was abandoned; its late container was removed");
    expect(backend.containers).toHaveLength(1);
    expect(backend.live()).toEqual([]);
  });

  it("gives every run its own abort signal, aborted at the release, even when the plugin passed none", async () => {
    const backend = new FakeBackend();
    const seen: (AbortSignal | undefined)[] = [];
    const inner = backend.run.bind(backend);
    backend.run = (spec, options) => {
      seen.push(options.signal);
      return inner(spec, options);
    };
    const scope = new ResourceScope(backend);
    const plugins = new AbortController();
    await scope.backend.run({ image: "a" }, { runId: "r", service: "s" });
    await scope.backend.run({ image: "b" }, { runId: "r", service: "s", signal: plugins.signal });
    expect(seen.map((s) => s?.aborted)).toEqual([false, false]);
    await scope.release();
    expect(seen.map((s) => s?.aborted)).toEqual([true, true]);
    expect(String(seen[0]?.reason)).toContain("start was abandoned");
    expect(plugins.signal.aborted).toBe(false); // the plugin's own signal is left alone
  });

  it("removes containers adopted after the release", async () => {
    const backend = new FakeBackend();
    const scope = new ResourceScope(backend);
    const c = await backend.run({ image: "x" }, { runId: "r", service: "s" });
    await scope.release();
    scope.adopt([c]);
    await vi.waitFor(() => expect(backend.live()).toEqual([]));
  });

  it("keeps releasing when one removal fails", async () => {
    const backend = new FakeBackend();
    const scope = new ResourceScope(backend);
    const a = await scope.backend.run({ image: "a" }, { runId: "r", service: "s" });
    const b = await scope.backend.run({ image: "b" }, { runId: "r", service: "s" });
    a.remove = () => Promise.reject(new Error("gone"));
    await scope.release();
    expect(backend.containers.find((c) => c.id === b.id)?.removed).toBe(true);
  });

  it("passes the other backend calls through", async () => {
    const backend = new FakeBackend();
    const scope = new ResourceScope(backend);
    await expect(scope.backend.ping()).resolves.toBeUndefined();
    expect((await scope.backend.createNetwork("r1")).name).toBe("clnrm-r1");
    expect(await scope.backend.sweep()).toEqual({ containers: [], networks: [], volumes: [] });
  });
});

describe("backoffDelay", () => {
  it("grows exponentially from the first retry and is capped", () => {
    const p = { attempts: 10, initialDelayMs: 100, factor: 2, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(p, a))).toEqual([100, 100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay({ ...p, factor: 3 }, 4)).toBe(900);
    expect(backoffDelay({ ...p, factor: 1 }, 9)).toBe(100);
  });

  it("has sane defaults", () => {
    expect(DEFAULT_RETRY.attempts).toBe(1);
    expect(backoffDelay(DEFAULT_RETRY, 2)).toBe(250);
    expect(backoffDelay(DEFAULT_RETRY, 20)).toBe(5_000);
  });
});

describe("withTimeout", () => {
  const timeoutErr = () => new TimeoutError("too slow", 50);

  it("resolves with the promise's value in time", async () => {
    await expect(withTimeout(delay(5).then(() => 42), 500, timeoutErr)).resolves.toBe(42);
  });

  it("passes the promise's rejection through", async () => {
    await expect(withTimeout(Promise.reject(new Error("own")), 500, timeoutErr)).rejects.toThrow("own");
  });

  it("rejects with onTimeout() and aborts the controller when too slow", async () => {
    const controller = new AbortController();
    const t0 = performance.now();
    const err = await rejection(withTimeout(new Promise(() => {}), 50, timeoutErr, controller));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(err);
  });

  it("does not abort the controller when the promise wins", async () => {
    const controller = new AbortController();
    await withTimeout(Promise.resolve(1), 20, timeoutErr, controller);
    await delay(40);
    expect(controller.signal.aborted).toBe(false);
  });

  it.each([0, -1, Number.POSITIVE_INFINITY, Number.NaN])("means no timeout for %d", async (ms) => {
    await expect(withTimeout(delay(20).then(() => "ok"), ms, timeoutErr)).resolves.toBe("ok");
  });
});

describe("sleep", () => {
  it("waits, or returns early when the signal aborts", async () => {
    let t0 = performance.now();
    await sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(28);
    const c = new AbortController();
    t0 = performance.now();
    setTimeout(() => c.abort(), 10);
    await sleep(5_000, c.signal);
    expect(performance.now() - t0).toBeLessThan(1_000);
    await sleep(5_000, c.signal);
  });
});

describe("fmtMs", () => {
  it.each([
    [0, "0 ms"],
    [250, "250 ms"],
    [999, "999 ms"],
    [1_000, "1 s"],
    [1_500, "1.5 s"],
    [30_000, "30 s"],
    [60_000, "1 min"],
    [90_000, "90 s"],
    [120_000, "2 min"],
  ])("%d → %s", (ms, s) => {
    expect(fmtMs(ms)).toBe(s);
  });
});

describe("handleProblem", () => {
  const c = { remove: async () => {} } as never;
  it("accepts a chaos plugin's sidecars without a primary, but not a service's", () => {
    expect(handleProblem({ service: "x", containers: [c], outputs: {} }, "x", "chaos")).toBeUndefined();
    expect(handleProblem({ service: "x", containers: [c], outputs: {} }, "x")).toMatch(/primary is missing/);
  });
  it("rejects outputs that are not finite scalars", () => {
    expect(handleProblem({ service: "x", primary: c, containers: [c], outputs: { n: Number.NaN } }, "x")).toMatch(/output 'n'/);
    expect(handleProblem({ service: "x", primary: c, containers: [c], outputs: { a: [1] } }, "x")).toMatch(/output 'a' is an array/);
    expect(handleProblem({ service: "x", primary: c, containers: [c], outputs: { ok: 1, s: "s", b: true } }, "x")).toBeUndefined();
  });
  it("does not retry a start whose handle breaks the contract", async () => {
    const { backend, plugin, lifecycle } = setup({ start: async (ctx) => ({ service: ctx.service, containers: [], outputs: { bad: null as never } }) }, { retry: { attempts: 3, initialDelayMs: 1 } });
    await expect(lifecycle.start(startContext(backend))).rejects.toThrow(/plugin 'fake' returned an invalid handle for service 'db': output 'bad' is null/);
    expect(plugin.starts).toHaveLength(1);
  });
});
