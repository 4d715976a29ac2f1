// Stand-in for otel/opentelemetry-collector-contrib, for clnrm's tests (no npm deps).
// Covers: the OTLP/HTTP receiver (POST /v1/traces with JSON bodies), the health_check extension,
// and the file exporter (each request appended as one JSON line, like the real file exporter's
// json format). Not covered: OTLP/gRPC on 4317 (accepts TCP and closes), protobuf bodies (415),
// processors, and every other exporter. The config is read from --config: the JSON config that
// @clnrm/plugin-otel-collector generates; a YAML config falls back to the defaults.
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { dirname } from "node:path";
import { argValue, exitOnSignals, readBody, sendJson as json, urlPath } from "/srv/lib/standin.mjs";

const configPath = argValue(process.argv.slice(2), "--config", "/etc/otelcol-contrib/config.yaml");

let config = {};
try {
  config = JSON.parse(readFileSync(configPath, "utf8"));
} catch (err) {
  console.log(`standin-otel-collector: config ${configPath} is not JSON (${err.code ?? err.message}); using defaults`);
}

const port = (endpoint, fallback) => {
  const m = /:(\d+)$/.exec(String(endpoint ?? ""));
  return m ? Number(m[1]) : fallback;
};
const protocols = config.receivers?.otlp?.protocols ?? {};
const httpPort = port(protocols.http?.endpoint, 4318);
const grpcPort = port(protocols.grpc?.endpoint, 4317);
const healthPort = port(config.extensions?.health_check?.endpoint, 13133);
const tracesExporters = config.service?.pipelines?.traces?.exporters ?? Object.keys(config.exporters ?? {});
const files = tracesExporters
  .filter((name) => name === "file" || name.startsWith("file/"))
  .map((name) => config.exporters?.[name]?.path)
  .filter((p) => typeof p === "string");
for (const f of files) mkdirSync(dirname(f), { recursive: true });

const otlp = createServer((req, res) => {
  readBody(req).then((raw) => {
    if (req.method !== "POST" || urlPath(req) !== "/v1/traces") return json(res, 404, { code: 5, message: `${req.method} ${req.url} not found` });
    const type = String(req.headers["content-type"] ?? "");
    if (!type.startsWith("application/json")) return json(res, 415, { code: 3, message: `stand-in accepts only application/json, got ${type || "none"}` });
    let body;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      return json(res, 400, { code: 3, message: `invalid JSON: ${err.message}` });
    }
    const line = `${JSON.stringify(body)}\n`;
    for (const f of files) appendFileSync(f, line);
    const n = (body.resourceSpans ?? []).reduce((a, rs) => a + (rs.scopeSpans ?? []).reduce((b, ss) => b + (ss.spans ?? []).length, 0), 0);
    console.log(`standin-otel-collector: received ${n} span(s)`);
    json(res, 200, {});
  });
});

const health = createServer((_req, res) => json(res, 200, { status: "Server available", upSince: new Date().toISOString(), uptime: `${process.uptime()}s` }));
const grpc = createTcpServer((socket) => socket.destroy());

otlp.listen(httpPort, "0.0.0.0");
grpc.listen(grpcPort, "0.0.0.0");
health.listen(healthPort, "0.0.0.0", () => console.log(`standin-otel-collector: ready (http ${httpPort}, grpc ${grpcPort} not implemented, health ${healthPort}, files ${files.join(", ") || "none"})`));

exitOnSignals();
