// A plugin whose start creates a container, then never returns and ignores its abort signal.
import { definePlugin, z } from "@clnrm/core";

export default definePlugin({
  type: "hangs_in_start",
  description: "test plugin: start creates a container, then hangs forever",
  configSchema: z.strictObject({ image: z.string().default("alpine:latest") }),
  create: (config) => ({
    async start(ctx) {
      await ctx.backend.run({ image: config.image, keepAlive: true }, { runId: ctx.runId, service: ctx.service, network: ctx.network });
      await new Promise(() => {});
    },
    async healthCheck() {
      return { status: "healthy" };
    },
    async stop() {},
  }),
});
