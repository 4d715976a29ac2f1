/**
 * withSpan without a tracer provider: the OpenTelemetry API is not loaded, and `fn` gets a span that
 * records nothing. Runs in a fresh Node process (vitest's own process has the API loaded already).
 * With a provider registered, lifecycle-spans.test.ts checks the spans.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

async function inFreshNode(body: string): Promise<unknown> {
  const script = `
    import { createRequire } from "node:module";
    const core = await import(${JSON.stringify(dist)});
    const loaded = () => Object.keys(createRequire(${JSON.stringify(dist)}).cache).some((k) => k.includes("@opentelemetry"));
    ${body}`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
  return JSON.parse(stdout);
}

describe("tracing with nobody listening", () => {
  it("runs fn with a non-recording span and never loads @opentelemetry/api", async () => {
    const out = await inFreshNode(`
      const r = await core.withSpan("x", { a: 1 }, async (span) => { span.setAttribute("k", "v"); core.markSpanFailed(span, "no"); return span.isRecording(); });
      const err = await core.withSpan("y", {}, async () => { throw new Error("boom"); }).catch((e) => e.message);
      console.log(JSON.stringify({ recording: r, err, loaded: loaded() }));`);
    expect(out).toEqual({ recording: false, err: "boom", loaded: false });
  });

  it("loads the API and records once a provider is registered", async () => {
    const resolve = createRequire(import.meta.url).resolve;
    const [sdk, api] = [resolve("@opentelemetry/sdk-trace-base"), resolve("@opentelemetry/api")];
    const out = await inFreshNode(`
      const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(${JSON.stringify(sdk)});
      const { trace } = await import(${JSON.stringify(api)});
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      const recording = await core.withSpan("clnrm.x", { a: 1 }, async (span) => span.isRecording());
      const [s] = exporter.getFinishedSpans();
      console.log(JSON.stringify({ recording, name: s.name, outcome: s.attributes["clnrm.outcome"] }));`);
    expect(out).toEqual({ recording: true, name: "clnrm.x", outcome: "ok" });
  });
});
