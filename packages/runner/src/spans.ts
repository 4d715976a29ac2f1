/**
 * Span expectations: `[[expect.spans]]` tables assert on the spans the system under test sent to a
 * span sink service (one whose plugin declares the `spanSink` capability, an OpenTelemetry collector
 * for example). Pure logic: the caller supplies a function that reads the spans collected so far
 * (the capability's `readSpans`), and `checkSpanExpectations` polls it until every expectation
 * holds or its `within` window ends.
 */
import { type CollectedSpan, durationSchema, type SpanAttributeValue, sleep, userRegexSchema, z } from "@clnrm/core";

export type { CollectedSpan } from "@clnrm/core";

const regex = userRegexSchema();

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const count = z.number().int().min(0);

export const DEFAULT_SPAN_WITHIN_MS = 5_000;

export const spanExpectationSchema = z
  .strictObject({
    /** The span sink service whose spans to check (optional when the file has exactly one). */
    collector: z.string().min(1).optional(),
    /** Exact span name. */
    name: z.string().min(1).optional(),
    /** Span name pattern (JavaScript regular expression, unanchored). */
    name_regex: regex.optional(),
    /** Attributes that must be equal (200 and "200" are equal). */
    attributes: z.record(z.string().min(1), z.union([scalar, z.array(scalar)])).optional(),
    /** Attributes whose string form must match a pattern. */
    attributes_regex: z.record(z.string().min(1), regex).optional(),
    /** Name of the parent span; "root" means the span has no parent. */
    parent: z.string().min(1).optional(),
    kind: z.enum(["internal", "server", "client", "producer", "consumer", "unspecified"]).optional(),
    status: z.enum(["ok", "error", "unset"]).optional(),
    /** Resource attribute service.name. */
    service_name: z.string().min(1).optional(),
    min_duration: durationSchema.optional(),
    max_duration: durationSchema.optional(),
    /** Exactly this many matching spans (0 asserts that there is none). */
    count: count.optional(),
    min_count: count.optional(),
    max_count: count.optional(),
    /** How long to wait for the spans to arrive. */
    within: durationSchema.default(DEFAULT_SPAN_WITHIN_MS),
  })
  .superRefine((e, ctx) => {
    if (e.name !== undefined && e.name_regex !== undefined) ctx.addIssue({ code: "custom", path: ["name_regex"], message: "use either name or name_regex, not both" });
    if (e.count !== undefined && (e.min_count !== undefined || e.max_count !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["count"], message: "use either count or min_count/max_count, not both" });
    }
    if (e.min_count !== undefined && e.max_count !== undefined && e.min_count > e.max_count) ctx.addIssue({ code: "custom", path: ["max_count"], message: "max_count is below min_count" });
    if (e.min_duration !== undefined && e.max_duration !== undefined && e.min_duration > e.max_duration) {
      ctx.addIssue({ code: "custom", path: ["max_duration"], message: "max_duration is below min_duration" });
    }
  });

export const spanExpectationsSchema = z.array(spanExpectationSchema);

export type SpanExpectation = z.output<typeof spanExpectationSchema>;
export type SpanExpectationInput = z.input<typeof spanExpectationSchema>;

export interface SpanExpectationResult {
  expectation: SpanExpectation;
  passed: boolean;
  /** Number of matching spans at the last read. */
  matched: number;
  /** What was expected and what was seen, on one line. */
  failure?: string;
}

/** Reads the spans a collector has received so far; `collector` is the expectation's collector, if set. */
export type SpanReader = (collector?: string) => Promise<CollectedSpan[]>;

export interface CheckSpanOptions {
  /** Delay between reads while waiting (default 200 ms). */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** For tests. */
  now?: () => number;
}

/**
 * Which collector each expectation reads: its `collector`, or the only span sink service
 * (`collectors`: the services whose plugin provides the `spanSink` capability). Returns one message
 * per problem (to report as validation errors at the expectation's index).
 */
export function validateSpanCollectors(expectations: readonly SpanExpectation[], collectors: readonly string[]): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  expectations.forEach((e, index) => {
    if (e.collector !== undefined) {
      if (!collectors.includes(e.collector)) {
        problems.push({ index, message: `collector '${e.collector}' is not a service that collects spans${collectors.length ? ` (span collectors here: ${collectors.join(", ")})` : ""}` });
      }
    } else if (collectors.length === 0) {
      problems.push({ index, message: "span expectations need a service that collects spans: add one, e.g. an OpenTelemetry collector (`clnrm plugins list` shows the plugins)" });
    } else if (collectors.length > 1) {
      problems.push({ index, message: `there are several span collector services (${collectors.join(", ")}): set collector = "NAME"` });
    }
  });
  return problems;
}

function bounds(e: SpanExpectation): { min: number; max: number } {
  if (e.count !== undefined) return { min: e.count, max: e.count };
  return { min: e.min_count ?? (e.max_count === undefined ? 1 : 0), max: e.max_count ?? Number.POSITIVE_INFINITY };
}

/** An expectation whose lower bound is 0 ("no span", "at most N") can only pass at the end of its window. */
function waitsFullWindow(e: SpanExpectation): boolean {
  return bounds(e).min === 0;
}

function sameValue(actual: SpanAttributeValue | undefined, expected: string | number | boolean | (string | number | boolean)[]): boolean {
  if (actual === undefined || actual === null) return false;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => sameValue(actual[i], v));
  if (typeof actual === "object") return false;
  return actual === expected || String(actual) === String(expected);
}

function show(v: SpanAttributeValue | undefined): string {
  if (v === undefined) return "(unset)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function nameMatches(e: SpanExpectation, s: CollectedSpan): boolean {
  if (e.name !== undefined) return s.name === e.name;
  if (e.name_regex !== undefined) return e.name_regex.test(s.name);
  return true;
}

type Index = Map<string, CollectedSpan>;
const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

function parentName(s: CollectedSpan, index: Index): string | undefined {
  if (!s.parentSpanId) return "root";
  return index.get(key(s.traceId, s.parentSpanId))?.name;
}

/** Each criterion besides the name: a label, a test, and how to show what a span has instead. */
interface Criterion {
  label: string;
  test(s: CollectedSpan): boolean;
  seen(s: CollectedSpan): string;
}

function criteria(e: SpanExpectation, index: Index): Criterion[] {
  const out: Criterion[] = [];
  for (const [k, v] of Object.entries(e.attributes ?? {})) {
    out.push({ label: `${k}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`, test: (s) => sameValue(s.attributes[k], v), seen: (s) => `${k}=${show(s.attributes[k])}` });
  }
  for (const [k, re] of Object.entries(e.attributes_regex ?? {})) {
    out.push({ label: `${k}~/${re.source}/`, test: (s) => s.attributes[k] !== undefined && s.attributes[k] !== null && re.test(show(s.attributes[k])), seen: (s) => `${k}=${show(s.attributes[k])}` });
  }
  if (e.parent !== undefined) {
    const want = e.parent;
    out.push({
      label: want === "root" ? "no parent" : `parent "${want}"`,
      test: (s) => parentName(s, index) === want,
      seen: (s) => `parent=${parentName(s, index) ?? `(not collected: ${s.parentSpanId})`}`,
    });
  }
  if (e.kind !== undefined) out.push({ label: `kind ${e.kind}`, test: (s) => s.kind === e.kind, seen: (s) => `kind=${s.kind}` });
  if (e.status !== undefined) {
    out.push({ label: `status ${e.status}`, test: (s) => s.status.code === e.status, seen: (s) => `status=${s.status.code}${s.status.message ? ` (${s.status.message})` : ""}` });
  }
  if (e.service_name !== undefined) {
    out.push({ label: `service.name=${e.service_name}`, test: (s) => s.resource["service.name"] === e.service_name, seen: (s) => `service.name=${show(s.resource["service.name"])}` });
  }
  if (e.min_duration !== undefined) {
    const min = e.min_duration;
    out.push({ label: `duration >= ${fmtMs(min)}`, test: (s) => s.durationMs >= min, seen: (s) => `duration=${fmtMs(s.durationMs)}` });
  }
  if (e.max_duration !== undefined) {
    const max = e.max_duration;
    out.push({ label: `duration <= ${fmtMs(max)}`, test: (s) => s.durationMs <= max, seen: (s) => `duration=${fmtMs(s.durationMs)}` });
  }
  return out;
}

function fmtMs(ms: number): string {
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${+ms.toFixed(3)}ms`;
}

function countPhrase(e: SpanExpectation): string {
  const { min, max } = bounds(e);
  const n = (k: number) => (k === 1 ? "1 span" : `${k} spans`);
  if (min === max) return min === 0 ? "no span" : n(min);
  if (max === Number.POSITIVE_INFINITY) return `at least ${n(min)}`;
  if (min === 0) return `at most ${n(max)}`;
  return `${min}-${max} spans`;
}

function namePhrase(e: SpanExpectation): string {
  if (e.name !== undefined) return JSON.stringify(e.name);
  if (e.name_regex !== undefined) return `matching /${e.name_regex.source}/`;
  return "";
}

const uniq = <T>(xs: T[]) => [...new Set(xs)];

function list(items: string[], maxItems = 20): string {
  if (items.length <= maxItems) return items.join(", ");
  return `${items.slice(0, maxItems).join(", ")}, ... (${items.length - maxItems} more)`;
}

/** Evaluates one expectation against a snapshot of spans. */
export function evaluateSpanExpectation(e: SpanExpectation, spans: readonly CollectedSpan[]): SpanExpectationResult {
  const index: Index = new Map(spans.map((s) => [key(s.traceId, s.spanId), s]));
  const cs = criteria(e, index);
  const named = spans.filter((s) => nameMatches(e, s));
  const matched = named.filter((s) => cs.every((c) => c.test(s))).length;
  const { min, max } = bounds(e);
  if (matched >= min && matched <= max) return { expectation: e, passed: true, matched };

  const what = [countPhrase(e), namePhrase(e)].filter(Boolean).join(" ");
  const withs = cs.length ? ` with ${cs.map((c) => c.label).join(", ")}` : "";
  const svc = e.collector ? ` in collector '${e.collector}'` : "";
  let msg = `expected ${what}${withs}${svc}, found ${matched}`;
  if (spans.length === 0) return { expectation: e, passed: false, matched, failure: `${msg}; the collector received no spans` };
  if (named.length > 0 && cs.length > 0) {
    // What the spans with the right name have instead, for the criteria some of them miss.
    const failing = cs.filter((c) => named.some((s) => !c.test(s)));
    const details = failing.map((c) => {
      const values = uniq(named.map((s) => c.seen(s)));
      const prefix = `${values[0]!.split("=")[0]}=`;
      return values.every((v) => v.startsWith(prefix)) ? `${prefix}${list(values.map((v) => v.slice(prefix.length)), 10)}` : list(values, 10);
    });
    const label = e.name !== undefined ? `spans named ${JSON.stringify(e.name)}` : e.name_regex !== undefined ? `spans matching /${e.name_regex.source}/` : "spans";
    if (details.length) msg += `; ${label}: ${named.length} (${details.join("; ")})`;
  }
  msg += `; all span names: ${list(uniq(spans.map((s) => s.name)).sort())}`;
  return { expectation: e, passed: false, matched, failure: msg };
}


/**
 * Checks span expectations, reading the spans again every poll interval until each expectation
 * has settled: it passed (expectations with a lower bound of 0 — `count = 0`, `max_count` alone —
 * only pass once their whole `within` window has gone by), it can no longer pass (more matching
 * spans than its maximum: spans only accumulate), or its `within` window ended.
 * Results are in the order of `expectations`.
 */
export async function checkSpanExpectations(expectations: readonly SpanExpectation[], readSpans: SpanReader, options: CheckSpanOptions = {}): Promise<SpanExpectationResult[]> {
  const now = options.now ?? Date.now;
  const interval = options.pollIntervalMs ?? 200;
  const started = now();
  const results: (SpanExpectationResult | undefined)[] = expectations.map(() => undefined);
  const last: SpanExpectationResult[] = [];
  for (;;) {
    const cache = new Map<string, Promise<CollectedSpan[]>>();
    const read = (c: string | undefined) => {
      const k = c ?? "";
      let p = cache.get(k);
      if (!p) {
        p = readSpans(c);
        cache.set(k, p);
      }
      return p;
    };
    const elapsed = now() - started;
    for (const [i, e] of expectations.entries()) {
      if (results[i]) continue;
      const r = evaluateSpanExpectation(e, await read(e.collector));
      last[i] = r;
      const over = r.matched > bounds(e).max;
      const windowOver = elapsed >= e.within;
      if ((r.passed && !waitsFullWindow(e)) || over || windowOver) results[i] = r;
    }
    if (results.every(Boolean) || options.signal?.aborted) break;
    await sleep(interval, options.signal);
  }
  return expectations.map((_, i) => results[i] ?? last[i]!);
}
