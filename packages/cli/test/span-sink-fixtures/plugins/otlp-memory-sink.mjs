// A second span sink, nothing like the OpenTelemetry collector plugin: an OTLP/HTTP (JSON) receiver
// inside the clnrm process itself, keeping the spans in memory. It has no container. `clnrm run`
// must find it by its spanSink capability: to export clnrm's own spans to it, and for [[expect.spans]].
import { createServer } from "node:http";
import { definePlugin, HealthStatus, z } from "@clnrm/core";

/** service name → { server, spans } */
const sinks = new Map();

function value(v) {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  return null;
}
const attrs = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));

function flatten(body) {
  const out = [];
  for (const rs of body.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano ?? 0);
        const end = BigInt(s.endTimeUnixNano ?? 0);
        out.push({
          traceId: String(s.traceId ?? ""),
          spanId: String(s.spanId ?? ""),
          parentSpanId: String(s.parentSpanId ?? ""),
          name: String(s.name ?? ""),
          kind: "internal",
          status: { code: "unset", message: "" },
          attributes: attrs(s.attributes),
          startTimeUnixNano: String(start),
          endTimeUnixNano: String(end),
          durationMs: Number(end - start) / 1e6,
          resource: attrs(rs.resource?.attributes),
          scope: String(ss.scope?.name ?? ""),
        });
      }
    }
  }
  return out;
}

export default definePlugin({
  type: "otlp_memory_sink",
  description: "test plugin: an in-process OTLP/HTTP JSON receiver that keeps spans in memory",
  configSchema: z.strictObject({}),
  capabilities: {
    spanSink: {
      otlpHttpEndpoint: (handle) => String(handle.outputs.endpoint),
      readSpans: async (handle) => [...(sinks.get(handle.service)?.spans ?? [])],
    },
  },
  create: () => ({
    async start(ctx) {
      const spans = [];
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          try {
            if (req.url === "/v1/traces") spans.push(...flatten(JSON.parse(body)));
            res.writeHead(200, { "content-type": "application/json" }).end("{}");
          } catch {
            res.writeHead(400).end();
          }
        });
      });
      await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
      sinks.set(ctx.service, { server, spans });
      return { service: ctx.service, containers: [], outputs: { endpoint: `http://127.0.0.1:${server.address().port}` } };
    },
    healthCheck: async () => HealthStatus.healthy(),
    async stop(handle) {
      const sink = sinks.get(handle.service);
      sinks.delete(handle.service);
      await new Promise((resolve) => (sink ? sink.server.close(resolve) : resolve()));
    },
  }),
});
