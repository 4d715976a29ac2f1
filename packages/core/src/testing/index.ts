/**
 * `@clnrm/core/testing`: the conformance suite a plugin author runs in vitest against their own
 * plugin and a real container engine.
 *
 *     import { DockerBackend } from "@clnrm/docker";
 *     import { pluginConformance } from "@clnrm/core/testing";
 *     import plugin from "../src/index.js";
 *
 *     pluginConformance({
 *       definition: plugin,
 *       backend: () => new DockerBackend(),
 *       validConfig: { image: "alpine:latest" },
 *       invalidConfigs: [{ image: "" }, { image: "alpine", bogus: 1 }],
 *     });
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../health.js";
import { ServiceLifecycle } from "../lifecycle.js";
import { type PluginDefinition, type PluginLogger, isPluginDefinition, SUPPORTED_API_VERSIONS } from "../plugin.js";
import type { ContainerBackend, NetworkHandle } from "../spec.js";

export interface ConformanceOptions {
  definition: PluginDefinition;
  /** The engine to run against (a function, so that creating it happens inside the tests). */
  backend: () => ContainerBackend | Promise<ContainerBackend>;
  /** A config that starts and becomes healthy on this machine. */
  validConfig: unknown;
  /** Configs the schema must reject (unknown keys, wrong types, bad values). At least one. */
  invalidConfigs: readonly unknown[];
  /** Directory that relative paths in the config resolve against. */
  baseDir?: string;
  /** Startup timeout for each start, in ms (default 60 s). */
  startupTimeoutMs?: number;
  /** Service name used for the test service (default: "svc"). */
  service?: string;
  /** Test timeout for the tests that start containers (default 120 s). */
  testTimeoutMs?: number;
}

const quiet: PluginLogger = { progress() {}, warn() {}, debug() {} };

export function pluginConformance(options: ConformanceOptions): void {
  const { definition } = options;
  const service = options.service ?? "svc";
  const timeout = options.testTimeoutMs ?? 120_000;
  const runIds: string[] = [];
  let backend: ContainerBackend | undefined;
  const networks: NetworkHandle[] = [];

  async function setup() {
    backend ??= await options.backend();
    const runId = `conf-${randomBytes(4).toString("hex")}`;
    runIds.push(runId);
    const network = await backend.createNetwork(runId);
    networks.push(network);
    return { backend, runId, network };
  }

  /** A lifecycle for the valid config; with `failHealth`, the plugin's health check fails after its start. */
  function lifecycle(failHealth = false) {
    const parsed = definition.configSchema.parse(options.validConfig);
    const plugin = definition.create(parsed, { service, baseDir: options.baseDir ?? process.cwd() });
    const startMs = options.startupTimeoutMs ?? 60_000;
    return new ServiceLifecycle({
      service,
      pluginType: definition.type,
      plugin: failHealth ? { ...plugin, start: (ctx) => plugin.start(ctx), stop: (h, ctx) => plugin.stop(h, ctx), healthCheck: async () => HealthStatus.failed("conformance: injected health failure") } : plugin,
      timeouts: { startMs, healthMs: startMs },
    });
  }

  describe(`plugin conformance: ${definition.type}`, () => {
    afterAll(async () => {
      if (!backend) return;
      for (const runId of runIds) await backend.sweep({ runId });
      for (const n of networks) await n.remove();
    });

    it("is a branded definition with a supported apiVersion and a description", () => {
      expect(isPluginDefinition(definition)).toBe(true);
      expect(SUPPORTED_API_VERSIONS).toContain(definition.apiVersion);
      // `kafka`, or scoped like an npm package: `@acme/kafka`.
      expect(definition.type).toMatch(/^(@[a-z0-9][a-z0-9_.-]*\/)?[a-z0-9][a-z0-9_.-]*$/);
      expect(definition.description.length).toBeGreaterThan(0);
    });

    it("schema accepts the valid config", () => {
      const r = definition.configSchema.safeParse(options.validConfig);
      expect(r.success, r.success ? "" : JSON.stringify(r.error.issues)).toBe(true);
    });

    it("schema rejects bad config", () => {
      expect(options.invalidConfigs.length).toBeGreaterThan(0);
      for (const bad of options.invalidConfigs) {
        expect(definition.configSchema.safeParse(bad).success, `accepted ${JSON.stringify(bad)}`).toBe(false);
      }
      expect(definition.configSchema.safeParse({ ...(options.validConfig as object), __no_such_key__: 1 }).success, "accepts unknown keys").toBe(false);
    });

    it(
      "start returns a handle, is healthy, stop removes every container, stop is idempotent",
      async () => {
        const { backend: be, runId, network } = await setup();
        const lc = lifecycle();
        const handle = await lc.start({ runId, backend: be, network, baseDir: options.baseDir ?? process.cwd(), log: quiet, dependencies: {}, services: new Map() });
        expect(handle.service).toBe(service);
        expect(handle.containers.length).toBeGreaterThan(0);
        expect(typeof handle.outputs).toBe("object");
        expect(lc.state).toBe("running");
        expect((await lc.healthCheck()).status).toBe("healthy");
        for (const c of handle.containers) expect((await c.state()).running).toBe(true);

        await lc.stop();
        expect(lc.state).toBe("stopped");
        for (const c of handle.containers) expect((await c.state()).running).toBe(false);
        const left = await be.sweep({ runId });
        expect(left.containers, "containers left after stop").toEqual([]);

        await lc.stop();
        expect(lc.state).toBe("stopped");
      },
      timeout,
    );

    it(
      "a failed start leaves nothing",
      async () => {
        const { backend: be, runId, network } = await setup();
        // The plugin starts its containers for real; then its health check fails, so the start fails.
        const lc = lifecycle(true);
        await expect(
          lc.start({ runId, backend: be, network, baseDir: options.baseDir ?? process.cwd(), log: quiet, dependencies: {}, services: new Map() }),
        ).rejects.toMatchObject({ code: "health" });
        expect(lc.state).toBe("failed");
        const left = await be.sweep({ runId });
        expect(left.containers, "containers left after a failed start").toEqual([]);
      },
      timeout,
    );
  });
}
