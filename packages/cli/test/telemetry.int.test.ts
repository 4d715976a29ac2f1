import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type NetworkHandle, ServiceLifecycle, type ServiceHandle, withSpan, type PluginDefinition } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REDACTED, registerSecret, startTelemetry } from "../src/telemetry.js";

// clnrm's own spans, end to end: the otel_collector plugin (built dist) runs the stand-in collector
// on Docker; telemetry exports to it; the plugin reads the spans back from its span file.
interface Span {
  name: string;
  spanId: string;
  parentSpanId: string;
  traceId: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  status: { code: string; message: string };
}
interface OtelPluginModule {
  default: PluginDefinition;
  readCollectedSpans(handle: ServiceHandle): Promise<Span[]>;
}

const backend = new DockerBackend();
const runId = `tel-${randomBytes(4).toString("hex")}`;
const quiet = { progress() {}, warn() {}, debug() {} };
let network: NetworkHandle;
let lc: ServiceLifecycle;
let otel: OtelPluginModule;

beforeAll(async () => {
  otel = (await import(pathToFileURL(resolve(import.meta.dirname, "../../plugin-otel-collector/dist/index.js")).href)) as OtelPluginModule;
  network = await backend.createNetwork(runId);
});

afterAll(async () => {
  await lc?.stop();
  await network.remove();
  await backend.sweep({ runId });
  expect(execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim()).toBe("");
});

it("exports clnrm's spans (buffered until the collector is up) with parent links and redacted secrets", async () => {
  const telemetry = await startTelemetry({ serviceName: "clnrm-test", exportIntervalMs: 100 });
  try {
    registerSecret("pa55-w0rd-xyz");
    // A span before the collector exists: kept, and sent once the endpoint is added.
    await withSpan("clnrm.before", { "clnrm.run": runId }, async () => {});

    const def = otel.default;
    lc = new ServiceLifecycle({ service: "otel", pluginType: def.type, plugin: def.create(def.configSchema.parse({ image: "clnrm-test/otel-collector-standin:latest" }), { service: "otel", baseDir: process.cwd() }), timeouts: { startMs: 30_000, healthMs: 30_000 } });
    const handle = await lc.start({ runId, backend, network, baseDir: process.cwd(), log: quiet, dependencies: {}, services: new Map() });
    await telemetry.addEndpoint(String(handle.outputs.otlp_http_endpoint));

    await withSpan("clnrm.test", { "clnrm.test": "login", "clnrm.run": runId }, async () => {
      await withSpan("clnrm.step", { "clnrm.step": "login as admin:pa55-w0rd-xyz", "db.password": "pa55-w0rd-xyz" }, async () => {});
      await withSpan("clnrm.step", { "clnrm.step": "fails" }, async () => {
        throw new Error("bad credentials pa55-w0rd-xyz");
      }).catch(() => {});
    });
    await telemetry.flush();

    const spans = await otel.readCollectedSpans(handle);
    expect(spans.map((s) => s.name).sort()).toEqual(["clnrm.before", "clnrm.service.health", "clnrm.service.start", "clnrm.step", "clnrm.step", "clnrm.test"]);
    // The lifecycle's own span for the collector's start, sent before its endpoint was added.
    expect(spans.find((s) => s.name === "clnrm.service.start")!.attributes).toMatchObject({ "clnrm.service": "otel", "clnrm.outcome": "ok" });
    const test = spans.find((s) => s.name === "clnrm.test")!;
    const steps = spans.filter((s) => s.name === "clnrm.step");
    for (const s of steps) expect([s.traceId, s.parentSpanId]).toEqual([test.traceId, test.spanId]);
    expect(test.parentSpanId).toBe("");
    expect(test.resource["service.name"]).toBe("clnrm-test");
    expect(test.attributes).toMatchObject({ "clnrm.test": "login", "clnrm.outcome": "ok" });
    expect(steps[0]!.attributes).toMatchObject({ "clnrm.step": `login as admin:${REDACTED}`, "db.password": REDACTED, "clnrm.outcome": "ok" });
    expect(steps[1]!.status).toEqual({ code: "error", message: `bad credentials ${REDACTED}` });
    expect(JSON.stringify(spans)).not.toContain("pa55-w0rd-xyz");

    await telemetry.removeEndpoint(String(handle.outputs.otlp_http_endpoint));
    expect(telemetry.endpoints).toEqual([]);
  } finally {
    await telemetry.shutdown();
  }
});
