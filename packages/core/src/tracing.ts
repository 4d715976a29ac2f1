import { type Tracer, trace } from "@opentelemetry/api";

export const TRACER_NAME = "@clnrm/core";

/** The tracer clnrm's spans go through. It is a no-op until an SDK registers a provider. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}
