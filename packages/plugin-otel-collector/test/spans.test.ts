import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSpansJsonl, readCollectedSpans } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "clnrm-otel-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "api" } }] },
      scopeSpans: [
        {
          scope: { name: "http" },
          spans: [
            {
              traceId: "5B8EFFF798038103D269B633813FC60C",
              spanId: "EEE19B7EC3C1B174",
              parentSpanId: "",
              name: "GET /users",
              kind: 2,
              startTimeUnixNano: "1544712660000000000",
              endTimeUnixNano: "1544712661500000000",
              attributes: [
                { key: "http.status_code", value: { intValue: "200" } },
                { key: "ok", value: { boolValue: true } },
                { key: "ratio", value: { doubleValue: 0.5 } },
                { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: 2 }] } } },
              ],
              status: { code: 1 },
            },
            { traceId: "W47/95gDgQPSabYzgT/GDA==", spanId: "7uGbfsPBsXU=", parentSpanId: "7uGbfsPBsXQ=", name: "db", kind: "SPAN_KIND_CLIENT", status: { code: "STATUS_CODE_ERROR", message: "boom" }, startTimeUnixNano: "1", endTimeUnixNano: "2000001" },
          ],
        },
      ],
    },
  ],
};

describe("reading collected spans", () => {
  it("flattens OTLP/JSON: ids, kind, status, typed attributes, resource, duration", () => {
    const [a, b] = parseSpansJsonl(`${JSON.stringify(request)}\n`);
    expect(a).toEqual({
      traceId: "5b8efff798038103d269b633813fc60c",
      spanId: "eee19b7ec3c1b174",
      parentSpanId: "",
      name: "GET /users",
      kind: "server",
      status: { code: "ok", message: "" },
      attributes: { "http.status_code": 200, ok: true, ratio: 0.5, tags: ["a", 2] },
      startTimeUnixNano: "1544712660000000000",
      endTimeUnixNano: "1544712661500000000",
      durationMs: 1500,
      resource: { "service.name": "api" },
      scope: "http",
    });
    // base64 ids (protobuf-JSON) and enum names are normalised too
    expect(b).toMatchObject({ traceId: a!.traceId, spanId: "eee19b7ec3c1b175", parentSpanId: "eee19b7ec3c1b174", kind: "client", status: { code: "error", message: "boom" }, durationMs: 2 });
  });

  it("skips a half-written last line and lines that are not traces", async () => {
    const file = join(dir, "spans.jsonl");
    const line = JSON.stringify(request);
    writeFileSync(file, `${line}\n{"resourceMetrics":[]}\n${line}\n${line.slice(0, 40)}`);
    expect(await readCollectedSpans(file)).toHaveLength(4);
    expect(await readCollectedSpans({ data: { spansFile: file } })).toHaveLength(4);
    expect(await readCollectedSpans(join(dir, "missing.jsonl"))).toEqual([]);
    await expect(readCollectedSpans({ data: {} })).rejects.toThrow(/not an otel_collector/);
  });
});
