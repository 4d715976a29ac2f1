// A plugin whose start throws a plain Error (not a CleanroomError), after a container was created.
import { definePlugin, z } from "@clnrm/core";

export default definePlugin({
  type: "throws_in_start",
  description: "test plugin: start creates a container, then throws",
  configSchema: z.strictObject({ image: z.string().default("alpine:latest") }),
  create: (config) => ({
    async start(ctx) {
      await ctx.backend.run({ image: config.image, keepAlive: true }, { runId: ctx.runId, service: ctx.service, network: ctx.network, signal: ctx.signal });
      throw new Error("boom: the fake database refused to start");
    },
    async healthCheck() {
      return { status: "healthy" };
    },
    async stop() {},
  }),
});
