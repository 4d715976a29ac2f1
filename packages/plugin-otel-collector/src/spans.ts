/**
 * Reading back the spans an otel_collector service received: the collector's file exporter writes
 * one OTLP/JSON ExportTraceServiceRequest per line; these functions flatten them into spans.
 */
import { readFile } from "node:fs/promises";
import type { CollectedSpan, SpanAttributeValue, SpanKindName, SpanStatusName } from "@clnrm/plugin-api";

export type { CollectedSpan, SpanAttributeValue, SpanKindName, SpanStatusName } from "@clnrm/plugin-api";

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number | string;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

const KINDS: readonly SpanKindName[] = ["unspecified", "internal", "server", "client", "producer", "consumer"];
const STATUSES: readonly SpanStatusName[] = ["unset", "ok", "error"];

function anyValue(v: OtlpAnyValue | undefined): SpanAttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return keyValues(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function keyValues(list: OtlpKeyValue[] | undefined): Record<string, SpanAttributeValue> {
  const out: Record<string, SpanAttributeValue> = {};
  for (const kv of list ?? []) if (typeof kv?.key === "string") out[kv.key] = anyValue(kv.value);
  return out;
}

/** OTLP/JSON enums are numbers, but some encoders write their names ("SPAN_KIND_SERVER"). */
function enumName<T extends string>(value: unknown, names: readonly T[], prefix: string): T {
  if (typeof value === "number") return names[value] ?? names[0]!;
  if (typeof value === "string") {
    const n = value.toLowerCase().replace(prefix, "") as T;
    if (names.includes(n)) return n;
    if (/^\d+$/.test(value)) return names[Number(value)] ?? names[0]!;
  }
  return names[0]!;
}

/** OTLP/JSON ids are hex; protobuf-JSON encoders may write base64 instead. Normalises to lowercase hex. */
function id(value: unknown, bytes: number): string {
  if (typeof value !== "string" || value === "") return "";
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  const b = Buffer.from(value, "base64");
  return b.length === bytes ? b.toString("hex") : value;
}

function nanos(value: unknown): bigint {
  try {
    return typeof value === "string" || typeof value === "number" ? BigInt(value) : 0n;
  } catch {
    return 0n;
  }
}

/** Flattens one ExportTraceServiceRequest (as parsed JSON). Lines without resourceSpans yield nothing. */
export function flattenTraceRequest(request: unknown): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  const resourceSpans = (request as { resourceSpans?: unknown })?.resourceSpans;
  if (!Array.isArray(resourceSpans)) return out;
  for (const rs of resourceSpans) {
    const resource = keyValues(rs?.resource?.attributes);
    for (const ss of rs?.scopeSpans ?? rs?.instrumentationLibrarySpans ?? []) {
      const scope = String(ss?.scope?.name ?? ss?.instrumentationLibrary?.name ?? "");
      for (const s of ss?.spans ?? []) {
        const start = nanos(s.startTimeUnixNano);
        const end = nanos(s.endTimeUnixNano);
        out.push({
          traceId: id(s.traceId, 16),
          spanId: id(s.spanId, 8),
          parentSpanId: id(s.parentSpanId, 8),
          name: String(s.name ?? ""),
          kind: enumName(s.kind, KINDS, "span_kind_"),
          status: { code: enumName(s.status?.code, STATUSES, "status_code_"), message: String(s.status?.message ?? "") },
          attributes: keyValues(s.attributes),
          startTimeUnixNano: start.toString(),
          endTimeUnixNano: end.toString(),
          durationMs: end >= start ? Number(end - start) / 1e6 : 0,
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/**
 * Parses the file exporter's output (JSON lines). Lines that don't parse are skipped: the last one
 * may be half written while the collector is still flushing.
 */
export function parseSpansJsonl(text: string): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      continue;
    }
    out.push(...flattenTraceRequest(parsed));
  }
  return out;
}

/** The spans file of an otel_collector handle (its `data.spansFile`), or undefined. */
export function spansFileOf(handle: { data?: unknown; outputs?: Record<string, unknown> }): string | undefined {
  const data = handle.data as { spansFile?: unknown } | undefined;
  if (typeof data?.spansFile === "string") return data.spansFile;
  const out = handle.outputs?.spans_file;
  return typeof out === "string" ? out : undefined;
}

/**
 * Every span the collector has written so far. Takes an otel_collector ServiceHandle or the path
 * of its spans file (output `spans_file`). A file that doesn't exist yet means no spans yet.
 */
export async function readCollectedSpans(source: string | { data?: unknown; outputs?: Record<string, unknown> }): Promise<CollectedSpan[]> {
  const file = typeof source === "string" ? source : spansFileOf(source);
  if (!file) throw new Error("readCollectedSpans: the handle is not an otel_collector service (no spans file)");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return parseSpansJsonl(text);
}
