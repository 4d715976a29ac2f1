import { type Attributes, type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";

export const TRACER_NAME = "@clnrm/core";

/** The tracer clnrm's spans go through. It is a no-op until an SDK registers a provider. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside an active span. The span records `clnrm.duration_ms` and `clnrm.outcome`
 * ("ok" or "error", unless `fn` set one), and an error status when `fn` throws.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
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
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(e.message ?? err) });
      throw err;
    } finally {
      setAttribute("clnrm.duration_ms", Math.round(performance.now() - started));
      span.end();
    }
  });
}

/** Marks a span as failed without throwing. */
export function markSpanFailed(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
