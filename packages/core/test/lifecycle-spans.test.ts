/**
 * The spans ServiceLifecycle records, through an in-memory OpenTelemetry SDK (the lifecycle runs
 * against the in-memory backend of fake-backend.ts).
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ServiceLifecycle } from "../src/lifecycle.js";
import { FakeBackend, FakePlugin, type FakePluginHooks, runOne, startContext } from "./fake-backend.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  expect(trace.setGlobalTracerProvider(provider)).toBe(true);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

function lifecycle(hooks: FakePluginHooks = {}, extra: Partial<ConstructorParameters<typeof ServiceLifecycle>[0]> = {}) {
  return new ServiceLifecycle({ service: "db", pluginType: "fake", plugin: new FakePlugin(hooks), ...extra });
}

function spans(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

function only(name: string): ReadableSpan {
  const found = spans(name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
}

describe("ServiceLifecycle spans", () => {
  it("records start, health and stop spans with service, plugin and outcome", async () => {
    const backend = new FakeBackend();
    const lc = lifecycle({}, { attributes: { "clnrm.image": "postgres:16" } });
    await lc.start(startContext(backend));
    await lc.stop();

    expect(exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(["clnrm.service.health", "clnrm.service.start", "clnrm.service.stop"]);
    for (const name of ["clnrm.service.start", "clnrm.service.health", "clnrm.service.stop"]) {
      const s = only(name);
      expect(s.attributes["clnrm.service"]).toBe("db");
      expect(s.attributes["clnrm.plugin"]).toBe("fake");
      expect(s.attributes["clnrm.image"]).toBe("postgres:16");
      expect(s.attributes["clnrm.outcome"]).toBe("ok");
      expect(typeof s.attributes["clnrm.duration_ms"]).toBe("number");
      expect(s.status.code).not.toBe(SpanStatusCode.ERROR);
    }
    expect(only("clnrm.service.start").attributes["clnrm.attempt"]).toBe(1);
  });

  it("records one start span per attempt, failed ones with an error status", async () => {
    const backend = new FakeBackend();
    const lc = lifecycle(
      {
        start: async (ctx, call) => {
          const h = await runOne(ctx);
          if (call === 1) throw new Error("pull failed");
          return h;
        },
      },
      { retry: { attempts: 2, initialDelayMs: 1 } },
    );
    await lc.start(startContext(backend));
    const starts = spans("clnrm.service.start").sort((a, b) => Number(a.attributes["clnrm.attempt"]) - Number(b.attributes["clnrm.attempt"]));
    expect(starts.map((s) => s.attributes["clnrm.attempt"])).toEqual([1, 2]);
    const [failed, ok] = starts;
    expect(failed?.attributes["clnrm.outcome"]).toBe("error");
    expect(failed?.attributes["clnrm.error.code"]).toBe("CLNRM_ERR_INTERNAL");
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.status.message).toContain("pull failed");
    expect(failed?.status.message).toContain("'db'");
    expect(ok?.attributes["clnrm.outcome"]).toBe("ok");
    expect(ok?.status.code).not.toBe(SpanStatusCode.ERROR);
    await lc.stop();
  });

  it("marks the health and start spans failed when the service never gets healthy", async () => {
    const backend = new FakeBackend();
    const lc = lifecycle({ healthCheck: async () => ({ status: "unhealthy", reason: "refused" }) }, { timeouts: { healthMs: 60 } });
    await expect(lc.start(startContext(backend))).rejects.toThrow("refused");
    for (const name of ["clnrm.service.health", "clnrm.service.start"]) {
      const s = only(name);
      expect(s.attributes["clnrm.service"]).toBe("db");
      expect(s.attributes["clnrm.plugin"]).toBe("fake");
      expect(s.attributes["clnrm.outcome"]).toBe("error");
      expect(s.attributes["clnrm.error.code"]).toBe("CLNRM_ERR_HEALTH");
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.status.message).toContain("refused");
    }
  });

  it("marks a timed-out start span with the timeout code", async () => {
    const backend = new FakeBackend();
    const lc = lifecycle({ start: () => new Promise(() => {}) }, { timeouts: { startMs: 40 } });
    await expect(lc.start(startContext(backend))).rejects.toThrow("did not start within 40 ms");
    const s = only("clnrm.service.start");
    expect(s.attributes["clnrm.outcome"]).toBe("error");
    expect(s.attributes["clnrm.error.code"]).toBe("CLNRM_ERR_TIMEOUT");
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans("clnrm.service.health")).toEqual([]);
  });

  it("marks a failed stop span", async () => {
    const backend = new FakeBackend();
    const lc = lifecycle({ stop: () => new Promise(() => {}) }, { timeouts: { stopMs: 30 } });
    await lc.start(startContext(backend));
    await expect(lc.stop()).rejects.toThrow("did not stop within 30 ms");
    const s = only("clnrm.service.stop");
    expect(s.attributes["clnrm.service"]).toBe("db");
    expect(s.attributes["clnrm.plugin"]).toBe("fake");
    expect(s.attributes["clnrm.outcome"]).toBe("error");
    expect(s.attributes["clnrm.error.code"]).toBe("CLNRM_ERR_TIMEOUT");
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
  });
});
