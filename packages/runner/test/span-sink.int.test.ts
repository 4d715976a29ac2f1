import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, HealthStatus, type PluginDefinition, runOptions, type SpanSink, ValidationError, z } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, describe, expect, it } from "vitest";
import { type PluginResolver, planTest, type RunEvent, runTest } from "../src/index.js";
import { span } from "./span-fixture.js";

// The runner finds span collectors by capability, not by type name: a second, tiny span sink
// (defined here, nothing like the OpenTelemetry collector) serves `[[expect.spans]]`. Its service is
// a real container whose host-mounted directory a step writes span names into, one per line.
const dir = mkdtempSync(join(import.meta.dirname, ".tmp-span-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENDPOINT = "http://127.0.0.1:4318";

const namesFile = (handle: { outputs: Record<string, unknown> }) => join(String(handle.outputs.spans_dir), "names");

const lineSink: SpanSink = {
  otlpHttpEndpoint: () => ENDPOINT,
  async readSpans(handle) {
    let text = "";
    try {
      text = readFileSync(namesFile(handle), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter(Boolean)
      .map((name) => span(name));
  },
};

function boxPlugin(type: string, capabilities: PluginDefinition["capabilities"]): PluginDefinition {
  return definePlugin({
    type,
    description: "test span sink: span names written one per line to /spans/names",
    configSchema: z.strictObject({}),
    ...(capabilities ? { capabilities } : {}),
    create: () => {
      const spansDir = mkdtempSync(join(tmpdir(), "clnrm-span-box-"));
      mkdirSync(spansDir, { recursive: true });
      return {
        async start(ctx) {
          const c = await ctx.backend.run(
            { image: "alpine:latest", command: ["sleep", "300"], mounts: [{ type: "bind", source: spansDir, target: "/spans" }], keepAlive: false },
            runOptions(ctx),
          );
          return { service: ctx.service, primary: c, containers: [c], outputs: { spans_dir: spansDir } };
        },
        healthCheck: async () => HealthStatus.healthy(),
        async stop() {
          rmSync(spansDir, { recursive: true, force: true });
        },
      };
    },
  }) as PluginDefinition;
}

function resolverOf(...defs: PluginDefinition[]): PluginResolver {
  return {
    async resolve(type) {
      const definition = defs.find((d) => d.type === type);
      if (!definition) throw new ValidationError(`unknown type ${type}`);
      return { definition, package: `test:${type}`, version: undefined };
    },
  };
}

function file(body: string): string {
  const f = join(dir, `s${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(f, body);
  return f;
}

const STEP = `[[steps]]
name = "emit"
service = "sink"
command = ["sh", "-c", "printf 'GET /\\\\ndb.query\\\\n' >> /spans/names"]
`;

function leftContainers(runId: string): string {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

describe("a span sink that is not the otel collector", () => {
  it("serves [[expect.spans]] through its capability, and its endpoint is on service:ready", async () => {
    const f = file(`[services.sink]\ntype = "span_box"\n\n${STEP}
[[expect.spans]]
name = "GET /"

[[expect.spans]]
name = "db.query"
count = 1

[[expect.spans]]
name = "never sent"
count = 0
within = "300ms"
`);
    const plan = await planTest(f, resolverOf(boxPlugin("span_box", { spanSink: lineSink })));
    const ready: RunEvent[] = [];
    const result = await runTest(plan, { backend: dockerBackend(), onEvent: (e) => e.type === "service:ready" && ready.push(e) });
    expect(leftContainers(result.runId)).toBe("");
    expect(result.status, JSON.stringify(result.error ?? result.steps.map((s) => s.failure))).toBe("passed");
    expect(result.steps.map((s) => [s.name, s.status, s.service])).toEqual([
      ["emit", "passed", "sink"],
      ['expect span "GET /"', "passed", "sink"],
      ['expect span "db.query"', "passed", "sink"],
      ['expect span "never sent"', "passed", "sink"],
    ]);
    expect(ready).toMatchObject([{ service: "sink", spanSink: { otlpHttpEndpoint: ENDPOINT } }]);
  }, 120_000);

  it("an expectation its spans do not meet fails the test with what was seen", async () => {
    const f = file(`[services.sink]\ntype = "span_box"\n\n${STEP}
[[expect.spans]]
collector = "sink"
name = "POST /orders"
within = "500ms"
`);
    const plan = await planTest(f, resolverOf(boxPlugin("span_box", { spanSink: lineSink })));
    const result = await runTest(plan, { backend: dockerBackend() });
    expect(leftContainers(result.runId)).toBe("");
    expect(result.status).toBe("failed");
    const last = result.steps.at(-1)!;
    expect(last.name).toBe('expect span "POST /orders"');
    expect(last.failure).toMatch(/GET \//);
  }, 120_000);

  it("the type name does not make a collector: without the capability, span expectations are refused at plan time", async () => {
    const f = file(`[services.sink]\ntype = "otel_collector"\n\n${STEP}\n[[expect.spans]]\nname = "GET /"\n`);
    const err = await planTest(f, resolverOf(boxPlugin("otel_collector", undefined))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).format()).toMatch(/\.clnrm\.toml:9:1: expect\.spans\[0\]: span expectations need a service that collects spans/);
  });

  it("a malformed capability is refused at plan time, at the service's type", async () => {
    const broken = { spanSink: { otlpHttpEndpoint: () => ENDPOINT } } as unknown as PluginDefinition["capabilities"];
    const f = file(`[services.sink]\ntype = "span_box"\n\n${STEP}\n[[expect.spans]]\nname = "GET /"\n`);
    const err = await planTest(f, resolverOf(boxPlugin("span_box", broken))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    // One problem: the broken capability, where the service's type is written (not "no collector" too).
    expect((err as ValidationError).format()).toMatch(/\.clnrm\.toml:2:\d+: plugin 'span_box': capabilities\.spanSink has no readSpans\(\) \(the plugin is broken[^\n]*$/);
  });
});
