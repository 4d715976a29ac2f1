import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerBackend, ContainerSpec, RunningContainer } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import plugin, { configSchema, DEFAULT_IMAGE, generateCollectorConfig, toContainerSpec } from "../src/index.js";

const paths = { configFile: "/tmp/x/config.json", spansDir: "/tmp/x/spans" };
const parse = (c: unknown) => configSchema.parse(c);
const baseDir = mkdtempSync(join(tmpdir(), "clnrm-otel-spec-"));
afterAll(() => rmSync(baseDir, { recursive: true, force: true }));

/** A backend that records the spec it is asked to run and returns a fake container. */
function recordingBackend() {
  const specs: ContainerSpec[] = [];
  const backend = {
    name: "fake",
    ping: async () => {},
    createNetwork: async () => ({ id: "n", name: "n", remove: async () => {} }),
    sweep: async () => ({ containers: [], networks: [], volumes: [] }),
    run: async (spec: ContainerSpec) => {
      specs.push(spec);
      const ports: Record<number, number> = { 4317: 40001, 4318: 40002, 13133: 40003 };
      return { id: "c", name: "c", image: spec.image, host: "localhost", networkIp: undefined, ports, mappedPort: (p: number) => ports[p]!, remove: async () => {} } as unknown as RunningContainer;
    },
  } as ContainerBackend;
  return { backend, specs };
}
const quiet = { progress() {}, warn() {}, debug() {} };
const ctx = (backend: ContainerBackend) => ({ service: "otel", runId: "r", backend, network: undefined, baseDir, signal: new AbortController().signal, log: quiet, startupTimeoutMs: 1000, dependencies: {}, services: new Map() });

describe("otel_collector spec for the real image", () => {
  it("runs the pinned contrib image with its entrypoint, config path, ports and health_check readiness", () => {
    const spec = toContainerSpec(parse({}), paths);
    expect(DEFAULT_IMAGE).toBe("otel/opentelemetry-collector-contrib:0.123.0");
    expect(spec).toMatchObject({
      image: DEFAULT_IMAGE,
      entrypoint: ["/otelcol-contrib"],
      command: ["--config", "/etc/otelcol-contrib/config.yaml"],
      ports: [{ container: 4317 }, { container: 4318 }, { container: 13133 }],
      mounts: [
        { type: "bind", source: "/tmp/x/config.json", target: "/etc/otelcol-contrib/config.yaml", readOnly: true },
        { type: "bind", source: "/tmp/x/spans", target: "/clnrm" },
      ],
      health: { kind: "http", port: 13133, path: "/" },
      keepAlive: false,
    });
    for (const p of spec.ports!) expect(p.host).toBeUndefined();
    expect(spec.user).toBe(`${process.getuid!()}:${process.getgid!()}`);
  });

  it("pins host ports when grpc_port/http_port are set; env and user pass through, key-like env is secret", () => {
    const spec = toContainerSpec(parse({ grpc_port: 14317, http_port: 14318, env: { API_KEY: "k", REGION: "eu" }, user: "10001" }), paths);
    expect(spec.ports).toEqual([{ container: 4317, host: 14317 }, { container: 4318, host: 14318 }, { container: 13133 }]);
    expect(spec.env).toEqual({ API_KEY: "k", REGION: "eu" });
    expect(spec.user).toBe("10001");
    expect(spec.secretEnv).toEqual(["API_KEY"]);
  });

  it("generates an OTLP -> file config with health_check and pass-through exporters in the traces pipeline", () => {
    const cfg = generateCollectorConfig(parse({ exporters: { "otlphttp/vendor": { endpoint: "https://x.example", headers: { a: "b" } } } }));
    expect(cfg).toEqual({
      receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } },
      extensions: { health_check: { endpoint: "0.0.0.0:13133" } },
      exporters: {
        "file/clnrm": { path: "/clnrm/spans.jsonl", format: "json", flush_interval: "100ms" },
        "otlphttp/vendor": { endpoint: "https://x.example", headers: { a: "b" } },
      },
      service: { extensions: ["health_check"], pipelines: { traces: { receivers: ["otlp"], exporters: ["file/clnrm", "otlphttp/vendor"] } } },
    });
  });

  it("start writes the generated config (JSON) and a world-writable span dir, mounts them, and gives outputs", async () => {
    const { backend, specs } = recordingBackend();
    const svc = plugin.create(parse({ exporters: { debug: { verbosity: "basic" } } }), { service: "otel", baseDir });
    const h = await svc.start(ctx(backend));
    const spec = specs[0]!;
    const [cfgMount, spanMount] = spec.mounts as { source: string }[];
    expect(JSON.parse(readFileSync(cfgMount!.source, "utf8")).exporters.debug).toEqual({ verbosity: "basic" });
    expect(statSync(spanMount!.source).mode & 0o777).toBe(0o777);
    expect(h.outputs).toEqual({
      host: "localhost",
      grpc_port: 40001,
      http_port: 40002,
      health_port: 40003,
      otlp_grpc_endpoint: "http://localhost:40001",
      otlp_http_endpoint: "http://localhost:40002",
      internal_otlp_grpc_endpoint: "http://otel:4317",
      internal_otlp_http_endpoint: "http://otel:4318",
      spans_file: join(spanMount!.source, "spans.jsonl"),
    });
    expect(h.data).toMatchObject({ spansFile: join(spanMount!.source, "spans.jsonl") });
    await svc.stop!(h, { service: "otel", runId: "r", log: quiet });
    expect(() => statSync(spanMount!.source)).toThrow();
  });

  it("config_file resolves against the test file's directory and is mounted read-only as is", async () => {
    writeFileSync(join(baseDir, "collector.yaml"), "receivers: {}\n");
    const { backend, specs } = recordingBackend();
    const svc = plugin.create(parse({ config_file: "./collector.yaml" }), { service: "otel", baseDir });
    const h = await svc.start(ctx(backend));
    expect(specs[0]!.mounts![0]).toEqual({ type: "bind", source: join(baseDir, "collector.yaml"), target: "/etc/otelcol-contrib/config.yaml", readOnly: true });
    await svc.stop!(h, { service: "otel", runId: "r", log: quiet });
  });

  it("a missing config_file is a one-line validation error with a hint, before any container", async () => {
    const { backend, specs } = recordingBackend();
    const svc = plugin.create(parse({ config_file: "nope.yaml" }), { service: "otel", baseDir });
    await expect(svc.start(ctx(backend))).rejects.toMatchObject({ code: "CLNRM_ERR_VALIDATION", message: expect.stringContaining("nope.yaml does not exist"), hint: expect.stringContaining("relative to the test file") });
    expect(specs).toEqual([]);
  });

  it("ports as the spec writes them (PLUGIN-001 example): HOST:4317 and HOST:4318 fix the receivers' host ports", () => {
    // test/fixtures/spec/otel-example.clnrm.toml's [services.collector], as TOML parses it.
    const c = parse({ config_file: "./otel-config.yaml", ports: ["4317:4317", "4318:4318"] });
    expect(c).toMatchObject({ grpc_port: 4317, http_port: 4318 });
    expect(c).not.toHaveProperty("ports");
    expect(toContainerSpec(c, paths).ports).toEqual([{ container: 4317, host: 4317 }, { container: 4318, host: 4318 }, { container: 13133 }]);
    const mixed = parse({ ports: ["14318:4318", 4317] });
    expect([mixed.http_port, mixed.grpc_port]).toEqual([14318, undefined]);
    expect(parse({ ports: ["14318:4318"] })).toEqual(parse({ http_port: 14318 }));
  });

  it("ports: other container ports, a port mapped twice, both spellings at once, one host port for both are refused", () => {
    const issues = (v: unknown) => configSchema.safeParse(v).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues({ ports: ["8080:8080"] })).toEqual(['ports.0: the collector receives on 4317 (OTLP/gRPC) and 4318 (OTLP/HTTP) over TCP: map one of those, e.g. "4317:4317"']);
    expect(issues({ ports: ["4317:4317/udp"] })?.[0]).toMatch(/^ports.0: the collector receives on 4317/);
    expect(issues({ ports: ["1:4317", "2:4317"] })).toEqual(["ports.1: container port 4317 is mapped twice"]);
    expect(issues({ ports: ["4317:4317"], grpc_port: 5000 })).toEqual(['grpc_port: \'grpc_port\' and ports\' "4317" entry are the same setting: keep ports = ["5000:4317"]']);
    expect(issues({ ports: ["5000:4317", "5000:4318"] })).toEqual(["ports: the gRPC (4317) and HTTP (4318) receivers need different host ports"]);
    expect(issues({ ports: ["x"] })?.[0]).toMatch(/^ports.0: invalid port mapping "x"/);
  });

  it("rejects bad config", () => {
    for (const bad of [
      { grpc_port: 70000 },
      { http_port: "x" },
      { grpc_port: 14317, http_port: 14317 },
      { config_file: "c.yaml", exporters: { debug: {} } },
      { exporters: { "file/clnrm": {} } },
      { exporters: { "Bad Name": {} } },
      { image: "" },
      { confg_file: "x" },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
