import { SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets, ForwardingExporter, REDACTED, redactAttributes, registerSecret, registerSecretEnv, startTelemetry, tracesUrl } from "../src/telemetry.js";

afterEach(() => clearSecrets());

describe("redaction", () => {
  it("redacts by key name, by registered secret value (inside strings and arrays), and via the extra redactor", () => {
    registerSecret("s3cr3t-value");
    registerSecret("ab"); // short: redacted as a whole token only
    const out = redactAttributes(
      { "db.password": "x", "api.token": 5, "clnrm.step": "login with s3cr3t-value now", list: ["a", "s3cr3t-value"], plain: "ab", word: "abc ab", n: 1, "clnrm.keyring": "kept" },
      (k, v) => (k === "n" ? 2 : v),
    );
    expect(out).toEqual({ "db.password": REDACTED, "api.token": REDACTED, "clnrm.step": `login with ${REDACTED} now`, list: ["a", REDACTED], plain: REDACTED, word: `abc ${REDACTED}`, n: 2, "clnrm.keyring": "kept" });
  });

  it("registers secret-looking env values only", () => {
    registerSecretEnv({ GITHUB_TOKEN: "tok-123", DB_PASSWORD: "pw-456", HOME: "/root", API_KEY: "key-789" });
    expect(redactAttributes({ a: "tok-123 pw-456 key-789 /root" })).toEqual({ a: `${REDACTED} ${REDACTED} ${REDACTED} /root` });
  });

  it("normalises endpoints to the traces path", () => {
    expect(tracesUrl("http://h:4318")).toBe("http://h:4318/v1/traces");
    expect(tracesUrl("http://h:4318/")).toBe("http://h:4318/v1/traces");
    expect(tracesUrl("http://h:4318/v1/traces")).toBe("http://h:4318/v1/traces");
  });
});

describe("ForwardingExporter", () => {
  it("keeps spans until a target is added, replays them, then forwards; redacts on the way", async () => {
    registerSecret("hunter2-pass");
    const targets = new Map<string, InMemorySpanExporter>();
    const make = (url: string): SpanExporter => {
      const t = new InMemorySpanExporter();
      targets.set(url, t);
      return t;
    };
    const fwd = new ForwardingExporter(make);
    const t = await startTelemetry({ exportIntervalMs: 10 });
    try {
      // Drive the forwarder directly with spans from a real SDK span.
      const spans: ReadableSpan[] = [];
      const capture = new InMemorySpanExporter();
      const { BasicTracerProvider, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
      const p = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(capture)] });
      const tr = p.getTracer("t");
      const a = tr.startSpan("early", { attributes: { "clnrm.token": "abc", note: "pw hunter2-pass" } });
      a.setStatus({ code: SpanStatusCode.ERROR, message: "login hunter2-pass failed" });
      a.end();
      tr.startSpan("late").end();
      spans.push(...capture.getFinishedSpans());

      const done = (s: ReadableSpan[]) => new Promise((r) => fwd.export(s, r));
      await expect(done([spans[0]!])).resolves.toEqual({ code: 0 });
      await fwd.add("http://one:4318");
      await done([spans[1]!]);
      const one = targets.get("http://one:4318/v1/traces")!.getFinishedSpans();
      expect(one.map((s) => s.name)).toEqual(["early", "late"]);
      expect(one[0]!.attributes).toEqual({ "clnrm.token": REDACTED, note: `pw ${REDACTED}` });
      expect(one[0]!.status.message).toBe(`login ${REDACTED} failed`);
      expect(one[0]!.spanContext().spanId).toBe(spans[0]!.spanContext().spanId);

      await fwd.add("http://two:4318", { replay: false });
      await fwd.remove("http://one:4318");
      expect(fwd.targets).toEqual(["http://two:4318/v1/traces"]);
      await done([spans[0]!]);
      expect(targets.get("http://two:4318/v1/traces")!.getFinishedSpans().map((s) => s.name)).toEqual(["early"]);
      await fwd.shutdown();
      await p.shutdown();
    } finally {
      await t.shutdown();
    }
    // After shutdown the global provider is gone: spans are no-ops again.
    expect(trace.getTracer("x").startSpan("noop").isRecording()).toBe(false);
  });
});
