import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { capabilityOf, type NetworkHandle, type ServiceHandle, ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { readCollectedSpans } from "../src/index.js";

// Runtime tests against the stand-in image (the real contrib image can't be pulled here).
const IMAGE = "clnrm-test/otel-collector-standin:latest";
const backend = new DockerBackend();
const runId = `otel-${randomBytes(4).toString("hex")}`;
const quiet = { progress() {}, warn() {}, debug() {} };
let network: NetworkHandle;
const lifecycles: ServiceLifecycle[] = [];

async function start(service: string, config: Record<string, unknown>): Promise<ServiceHandle> {
  const lc = new ServiceLifecycle({
    service,
    pluginType: plugin.type,
    plugin: plugin.create(plugin.configSchema.parse(config), { service, baseDir: process.cwd() }),
    timeouts: { startMs: 30_000, healthMs: 30_000 },
  });
  lifecycles.push(lc);
  return lc.start({ runId, backend, network, baseDir: process.cwd(), log: quiet, dependencies: {}, services: new Map() });
}

const hex = (n: number) => randomBytes(n).toString("hex");

function traceRequest(traceId: string, spans: { spanId: string; parentSpanId?: string; name: string; status?: number }[]) {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "api" } }] },
        scopeSpans: [
          {
            scope: { name: "test" },
            spans: spans.map((s) => ({
              traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? "",
              name: s.name,
              kind: 2,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 3_000_000n),
              attributes: [{ key: "http.status_code", value: { intValue: "200" } }],
              status: { code: s.status ?? 1 },
            })),
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  network = await backend.createNetwork(runId);
});

afterAll(async () => {
  await Promise.all(lifecycles.map((l) => l.stop()));
  await network.remove();
  await backend.sweep({ runId });
  expect(execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim()).toBe("");
});

describe("otel_collector with the stand-in", () => {
  it("receives OTLP/JSON spans over HTTP and reads them back from the span file", async () => {
    const h = await start("otel", { image: IMAGE });
    const endpoint = String(h.outputs.otlp_http_endpoint);
    expect(endpoint).toBe(`http://${h.outputs.host}:${h.primary!.mappedPort(4318)}`);
    expect(await readCollectedSpans(h)).toEqual([]);

    const traceId = hex(16);
    const root = hex(8);
    const child = hex(8);
    for (const body of [traceRequest(traceId, [{ spanId: child, parentSpanId: root, name: "SELECT users" }]), traceRequest(traceId, [{ spanId: root, name: "GET /users" }])]) {
      const r = await fetch(`${endpoint}/v1/traces`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({});
    }
    const spans = await readCollectedSpans(h);
    expect(spans.map((s) => [s.name, s.spanId, s.parentSpanId])).toEqual([
      ["SELECT users", child, root],
      ["GET /users", root, ""],
    ]);
    expect(await (h.data as { readSpans(): Promise<unknown[]> }).readSpans()).toEqual(spans);
    // What the runner and the CLI use: the span sink capability, not the type name or the handle's data.
    const sink = capabilityOf(plugin, "spanSink")!;
    expect(sink.otlpHttpEndpoint(h)).toBe(endpoint);
    expect(await sink.readSpans(h)).toEqual(spans);
    expect(spans[1]).toMatchObject({ traceId, kind: "server", status: { code: "ok" }, attributes: { "http.status_code": 200 }, resource: { "service.name": "api" }, durationMs: 3 });

    // Reachable from another container on the run network through the internal endpoint.
    expect(h.outputs.internal_otlp_http_endpoint).toBe("http://otel:4318");
    const probe = await backend.run({ image: "clnrm-test/tools:latest", keepAlive: true }, { runId, service: "probe", network });
    const r = await probe.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "content-type: application/json", "-d", JSON.stringify(traceRequest(hex(16), [{ spanId: hex(8), name: "from-network" }])), "http://otel:4318/v1/traces"]);
    expect(r.stdout).toBe("200");
    await probe.remove();
    expect((await readCollectedSpans(h)).map((s) => s.name)).toContain("from-network");

    const file = String(h.outputs.spans_file);
    expect(existsSync(file)).toBe(true);
    await lifecycles.at(-1)!.stop();
    expect(existsSync(file)).toBe(false);
  });

  it("fixed host ports are honoured", async () => {
    const h = await start("fixed", { image: IMAGE, http_port: 24318 + (process.pid % 1000), grpc_port: 25317 + (process.pid % 1000) });
    expect(h.primary!.mappedPort(4318)).toBe(24318 + (process.pid % 1000));
    expect(h.outputs.otlp_grpc_endpoint).toBe(`http://${h.outputs.host}:${25317 + (process.pid % 1000)}`);
    const r = await fetch(`${h.outputs.otlp_http_endpoint}/v1/traces`, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: "x" });
    expect(r.status).toBe(415);
  });
});
