// One collected span for tests: a server span named `name` with no parent and no attributes.
import type { CollectedSpan } from "@clnrm/core";

let n = 0;
export function span(name: string, over: Partial<CollectedSpan> = {}): CollectedSpan {
  n++;
  return {
    traceId: "t1",
    spanId: `s${n}`,
    parentSpanId: "",
    name,
    kind: "server",
    status: { code: "unset", message: "" },
    attributes: {},
    startTimeUnixNano: "0",
    endTimeUnixNano: "0",
    durationMs: 10,
    resource: { "service.name": "api" },
    scope: "",
    ...over,
  };
}
