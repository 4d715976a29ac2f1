/**
 * The conformance suite starts a plugin alone (services: new Map()). A chaos engine needs a target,
 * so this adapter wraps the real definition: its start first starts a busybox target through
 * ctx.backend, then runs the real chaos start with that target in ctx.services. Stop stops both.
 */
import { pluginConformance } from "@clnrm/core/testing";
import { type ContainerBackend, definePlugin } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import chaos from "../src/index.js";
import { BUSYBOX, TOOLS } from "./helpers.js";

const real = new DockerBackend();

const withTarget = definePlugin({
  ...chaos,
  create(config, cctx) {
    const inner = chaos.create(config, cctx);
    return {
      async start(ctx) {
        // Through ctx.backend: the lifecycle releases the target too when the start fails.
        const target = await ctx.backend.run({ image: BUSYBOX, keepAlive: true }, { runId: ctx.runId, service: "target", ...(ctx.network ? { network: ctx.network } : {}) });
        const handle = await inner.start({ ...ctx, services: new Map([["target", { service: "target", primary: target, containers: [target], outputs: {} }]]) });
        return { ...handle, containers: [...handle.containers, target] };
      },
      healthCheck: (h) => inner.healthCheck(h),
      async stop(h, ctx) {
        const { containers, ...rest } = h;
        await inner.stop!({ ...rest, containers: containers.slice(0, -1) }, ctx);
        await containers.at(-1)?.remove();
      },
    };
  },
});

pluginConformance({
  definition: withTarget,
  backend: (): ContainerBackend => real,
  validConfig: { sidecar_image: TOOLS, block_ports: [8080] },
  invalidConfigs: [
    {},
    { block_ports: [8080], targets: ["bad name"] },
    { packet_loss_percent: 0 },
    { packet_loss_percent: 101 },
    { latency_ms: 100, jitter_ms: 200 },
    { latency_ms: 100, mode: "fast" },
    { block_ports: [8080], repeat: 3 },
    { kill: false, restart: true },
    { kill: true, latency_ms: 10 },
    { cpu: { stress_percent: 150 } },
    { block_ports: [8080], sidecar_image: "" },
  ],
});
