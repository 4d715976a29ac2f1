/**
 * The plugin contract's typed handle data and optional stop, against the in-memory backend of
 * fake-backend.ts (the lifecycle's cleanup logic; the same with real Docker is tested in
 * @clnrm/plugin-generic-container's lifecycle-no-stop.int.test.ts).
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { HealthStatus } from "../src/health.js";
import { handleProblem, ServiceLifecycle } from "../src/lifecycle.js";
import { definePlugin, type PluginDefinition, type ServiceHandle, type ServicePlugin } from "../src/plugin.js";
import { z } from "zod";
import { FakeBackend, type FakeContainer, startContext } from "./fake-backend.js";

describe("a plugin without stop", () => {
  function noStop(sidecars = 0): ServicePlugin {
    return {
      async start(ctx) {
        const main = await ctx.backend.run({ image: "alpine:3" }, { runId: ctx.runId, service: ctx.service });
        const more = [];
        for (let i = 0; i < sidecars; i++) more.push(await ctx.backend.run({ image: "sidecar:1" }, { runId: ctx.runId, service: ctx.service }));
        return { service: ctx.service, primary: main, containers: [main, ...more], outputs: {} };
      },
      healthCheck: async () => HealthStatus.healthy(),
    };
  }

  it("has its containers removed when the service stops", async () => {
    const backend = new FakeBackend();
    const lc = new ServiceLifecycle({ service: "db", pluginType: "fake", plugin: noStop(2) });
    await lc.start(startContext(backend));
    expect(backend.live()).toHaveLength(3);
    await lc.stop();
    expect(lc.state).toBe("stopped");
    expect(backend.live()).toEqual([]);
    expect(backend.containers.every((c) => c.removeCalls.length === 1)).toBe(true);
  });

  it("has its containers removed when its health check fails", async () => {
    const backend = new FakeBackend();
    const plugin: ServicePlugin = { ...noStop(1), healthCheck: async () => HealthStatus.failed("broken") };
    const lc = new ServiceLifecycle({ service: "db", pluginType: "fake", plugin });
    await expect(lc.start(startContext(backend))).rejects.toThrow(/service 'db' is unhealthy: broken/);
    expect(backend.containers).toHaveLength(2);
    expect(backend.live()).toEqual([]);
  });

  it("owns containers the handle names that were not started through ctx.backend", async () => {
    const backend = new FakeBackend();
    const outside = (await backend.run({ image: "outside:1" }, { runId: "run1", service: "db" })) as FakeContainer;
    const plugin: ServicePlugin = {
      start: async (ctx) => ({ service: ctx.service, primary: outside, containers: [outside], outputs: {} }),
      healthCheck: async () => HealthStatus.healthy(),
    };
    const lc = new ServiceLifecycle({ service: "db", pluginType: "fake", plugin });
    await lc.start(startContext(backend));
    expect(outside.removed).toBe(false);
    await lc.stop();
    expect(outside.removed).toBe(true);
  });
});

describe("handleProblem covers the whole handle", () => {
  const c = { remove: async () => {} } as never;
  it.each([
    [undefined, /start resolved to undefined/],
    [{ service: "other", containers: [], outputs: {} }, /handle.service is "other", expected "x"/],
    [{ service: "x", outputs: {} }, /handle.containers is not an array/],
    [{ service: "x", primary: c, containers: [c, { id: "not a container" }], outputs: {} }, /handle.containers\[1\] is not a RunningContainer/],
    [{ service: "x", primary: { remove: async () => {} }, containers: [c], outputs: {} }, /handle.primary is not one of handle.containers/],
    [{ service: "x", containers: [c], outputs: {} }, /handle.primary is missing/],
    [{ service: "x", primary: c, containers: [c] }, /handle.outputs is not an object/],
    [{ service: "x", primary: c, containers: [c], outputs: { o: {} } }, /output 'o' is object/],
    [{ service: "x", primary: c, containers: [c], outputs: {}, notices: ["ok", 3] }, /handle.notices is not an array of strings/],
  ])("%j", (handle, problem) => {
    expect(handleProblem(handle, "x")).toMatch(problem);
  });

  it("accepts a handle that keeps the contract, with data of any shape", () => {
    expect(handleProblem({ service: "x", primary: c, containers: [c], outputs: { a: 1 }, notices: ["n"], data: { anything: [1] } }, "x")).toBeUndefined();
    expect(handleProblem({ service: "x", containers: [], outputs: {} }, "x")).toBeUndefined();
  });

  it("rejects, without retrying, a start whose handle names something that isn't a container", async () => {
    const backend = new FakeBackend();
    let starts = 0;
    const plugin: ServicePlugin = {
      async start(ctx) {
        starts++;
        const real = await ctx.backend.run({ image: "alpine:3" }, { runId: ctx.runId, service: ctx.service });
        return { service: ctx.service, primary: real, containers: [real, "oops" as never], outputs: {} };
      },
      healthCheck: async () => HealthStatus.healthy(),
    };
    const lc = new ServiceLifecycle({ service: "db", pluginType: "fake", plugin, retry: { attempts: 3, initialDelayMs: 1 } });
    await expect(lc.start(startContext(backend))).rejects.toThrow(/returned an invalid handle for service 'db': handle.containers\[1\] is not a RunningContainer/);
    expect(starts).toBe(1);
    // The real container the handle named is released all the same.
    expect(backend.live()).toEqual([]);
  });
});

describe("typed handle data", () => {
  const definition = definePlugin({
    type: "typed",
    description: "typed data",
    configSchema: z.strictObject({ url: z.string() }),
    create(config) {
      return {
        async start(ctx) {
          return { service: ctx.service, containers: [], outputs: {}, data: { url: config.url, retries: 3 } };
        },
        async healthCheck(handle) {
          // Typed from start's return, without a cast.
          expectTypeOf(handle.data).toEqualTypeOf<{ url: string; retries: number } | undefined>();
          // @ts-expect-error: url is a string (the typecheck fails if data were unknown or any)
          const wrong: number = handle.data?.url ?? 0;
          void wrong;
          return handle.data?.url === "http://x" ? HealthStatus.healthy() : HealthStatus.unhealthy(`url is ${handle.data?.url}`);
        },
      };
    },
  });

  it("is inferred by definePlugin, and the definition is still a PluginDefinition", async () => {
    expectTypeOf<ReturnType<typeof definition.create>>().toEqualTypeOf<ServicePlugin<{ url: string; retries: number }>>();
    const loaded: PluginDefinition = definition;
    const plugin = loaded.create({ url: "http://x" }, { service: "s", baseDir: "/tmp" });
    expect(plugin.stop).toBeUndefined();
    const backend = new FakeBackend();
    const lc = new ServiceLifecycle({ service: "s", pluginType: "typed", plugin });
    const handle: ServiceHandle = await lc.start(startContext(backend));
    expect(handle.data).toEqual({ url: "http://x", retries: 3 });
    await lc.stop();
    expect(lc.state).toBe("stopped");
  });
});
