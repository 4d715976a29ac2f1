import { createRequire } from "node:module";
import type { Attributes, Span, SpanContext, Tracer } from "@opentelemetry/api";

export const TRACER_NAME = "@clnrm/core";

type Api = typeof import("@opentelemetry/api");

/**
 * Where @opentelemetry/api 1.x keeps its registered globals (tracer provider, context manager, ...).
 * An SDK that registers a tracer provider sets `trace` here, whichever copy of the API it loaded.
 */
const API_GLOBAL = Symbol.for("opentelemetry.js.api.1");
const SPAN_STATUS_ERROR = 2; // SpanStatusCode.ERROR

let api: Api | undefined;

/**
 * The OpenTelemetry API (44 modules) is loaded only once a tracer provider is registered: with
 * nobody listening, every span would be a no-op anyway, and loading it cost ~25 ms of each run's start.
 */
function loadedApi(): Api | undefined {
  if (api) return api;
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[API_GLOBAL];
  return registered?.trace ? requireApi() : undefined;
}

function requireApi(): Api {
  api ??= createRequire(import.meta.url)("@opentelemetry/api") as Api;
  return api;
}

const INVALID_CONTEXT: SpanContext = { traceId: "00000000000000000000000000000000", spanId: "0000000000000000", traceFlags: 0 };

/** What a span is when no tracer provider is registered: accepts everything, records nothing. */
const NOOP_SPAN: Span = {
  spanContext: () => INVALID_CONTEXT,
  setAttribute: () => NOOP_SPAN,
  setAttributes: () => NOOP_SPAN,
  addEvent: () => NOOP_SPAN,
  addLink: () => NOOP_SPAN,
  addLinks: () => NOOP_SPAN,
  setStatus: () => NOOP_SPAN,
  updateName: () => NOOP_SPAN,
  end: () => {},
  isRecording: () => false,
  recordException: () => {},
};

/** The tracer clnrm's spans go through. It is a no-op until an SDK registers a provider. */
export function tracer(): Tracer {
  return requireApi().trace.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside an active span. The span records `clnrm.duration_ms` and `clnrm.outcome`
 * ("ok" or "error", unless `fn` set one), and an error status when `fn` throws. Without a
 * registered tracer provider, `fn` gets a span that records nothing.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const otel = loadedApi();
  if (!otel) return fn(NOOP_SPAN);
  return otel.trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    const started = performance.now();
    let outcomeSet = false;
    const setAttribute = span.setAttribute.bind(span);
    span.setAttribute = (key, value) => {
      if (key === "clnrm.outcome") outcomeSet = true;
      return setAttribute(key, value);
    };
    try {
      const out = await fn(span);
      if (!outcomeSet) setAttribute("clnrm.outcome", "ok");
      return out;
    } catch (err) {
      setAttribute("clnrm.outcome", "error");
      const e = err as { code?: unknown; message?: unknown };
      if (typeof e.code === "string") setAttribute("clnrm.error.code", e.code);
      span.setStatus({ code: SPAN_STATUS_ERROR, message: String(e.message ?? err) });
      throw err;
    } finally {
      setAttribute("clnrm.duration_ms", Math.round(performance.now() - started));
      span.end();
    }
  });
}

/** Marks a span as failed without throwing. */
export function markSpanFailed(span: Span, message: string): void {
  span.setStatus({ code: SPAN_STATUS_ERROR, message });
}
