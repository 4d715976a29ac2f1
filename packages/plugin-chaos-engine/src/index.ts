import { definePlugin, HealthStatus, type Outputs, type PluginDefinition } from "@clnrm/plugin-api";
import { ChaosEngine } from "./engine.js";
import { type ChaosConfig, configSchema } from "./schema.js";

export * from "./commands.js";
export { ChaosEngine } from "./engine.js";
export {
  describe as describeFaults,
  FAULT_KINDS,
  type Fault,
  type FaultEnv,
  type FaultKind,
  faultsFor,
  type LatencyMode,
  NETWORK_KINDS,
  type NetworkKind,
  STRESS_KINDS,
  type StressKind,
  type Target,
} from "./faults.js";
export { PROXY_READY, PROXY_SCRIPT } from "./proxy.js";
export { type ChaosConfig, configSchema, DEFAULT_PROXY_IMAGE, DEFAULT_SIDECAR_IMAGE } from "./schema.js";

function outputs(engine: ChaosEngine): Outputs {
  return {
    targets: engine.targets.map((t) => t.name).join(","),
    latency_mode: engine.latencyMode,
    active: engine.active,
  };
}

/** A chaos_engine definition; the default export is `createChaosEngine()`. */
export function createChaosEngine(): PluginDefinition<typeof configSchema, ChaosEngine> {
  return definePlugin({
    type: "chaos_engine",
    description: "Fault injection on other services: packet loss, latency, bandwidth caps, partitions, CPU/memory/IO stress, pause/kill",
    configSchema,
    /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
    outputs: () => ["targets", "latency_mode", "active"],
    role: "chaos",
    // With no targets the runner starts this after every non-chaos service, partition_from included.
    serviceRefs: (config: ChaosConfig) => [...new Set([...config.targets, ...config.partition_from])],
    create(config) {
      return {
        async start(ctx) {
          const engine = new ChaosEngine(config, ctx.log, `${ctx.runId}/${ctx.service}`);
          try {
            await engine.prepare(ctx);
            await engine.schedule();
          } catch (err) {
            await engine.stop().catch(() => {});
            throw err;
          }
          return { service: ctx.service, containers: [...engine.containers], outputs: outputs(engine), data: engine };
        },
        async healthCheck(handle) {
          for (const c of handle.containers) {
            const s = await c.state();
            if (!s.running) return HealthStatus.unhealthy(`chaos sidecar ${c.name} is ${s.status}`);
          }
          return HealthStatus.healthy();
        },
        // Reverts the faults on the targets; the lifecycle removes the sidecar containers.
        async stop(handle, ctx) {
          const engine = handle.data;
          if (!engine) return;
          engine.log = ctx.log;
          await engine.stop();
        },
      };
    },
  });
}

export default createChaosEngine();
