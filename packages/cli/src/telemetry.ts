/**
 * clnrm's own traces. core and runner create spans through @opentelemetry/api (a no-op until a
 * provider is registered); `startTelemetry` registers a NodeTracerProvider that exports them over
 * OTLP/HTTP (JSON) to an endpoint given up front, and/or to endpoints added later (the
 * span sink services of a run, known only once they have started). Secrets are redacted before
 * any span leaves the process. The SDK is loaded lazily, only when telemetry is started.
 */
import { REDACTED, SECRET_KEY_RE, redact, registerSecretEnv as coreRegisterSecretEnv } from "@clnrm/core";
import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

export { REDACTED, SECRET_KEY_RE, IN_WORD_SECRET_LENGTH, registerSecret, clearSecrets } from "@clnrm/core";

/** Registers the values of env vars that look secret (*_TOKEN, *_PASSWORD, *_KEY, *_SECRET, *_PASS). */
export function registerSecretEnv(env: Record<string, string | undefined> = process.env): void {
  coreRegisterSecretEnv(env);
}

/** Replaces every registered secret in a string. */
export const redactString = redact;

export type Redactor = (key: string, value: AttributeValue) => AttributeValue;

function redactValue(key: string, value: AttributeValue): AttributeValue {
  if (SECRET_KEY_RE.test(key)) return REDACTED;
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) {
    return value.map((v) => (typeof v === "string" ? redactString(v) : v)) as AttributeValue;
  }
  if (typeof value === "number" && redact(String(value)) !== String(value)) return REDACTED;
  return value;
}

/** The attributes with secrets redacted: by key name, by registered secret value, then by `extra`. */
export function redactAttributes(attributes: Attributes, extra?: Redactor): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined) continue;
    const r = redactValue(k, v);
    out[k] = extra ? extra(k, r) : r;
  }
  return out;
}

/** A copy of a finished span with its attributes, event attributes, name and status message redacted. */
export function redactSpan(span: ReadableSpan, extra?: Redactor): ReadableSpan {
  return {
    name: redactString(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status.message === undefined ? span.status : { ...span.status, message: redactString(span.status.message) },
    attributes: redactAttributes(span.attributes, extra),
    links: span.links.map((l) => (l.attributes ? { ...l, attributes: redactAttributes(l.attributes, extra) } : l)),
    events: span.events.map((e) => ({ ...e, name: redactString(e.name), ...(e.attributes ? { attributes: redactAttributes(e.attributes, extra) } : {}) })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** `http://host:4318` -> `http://host:4318/v1/traces` (an endpoint that ends in /v1/traces is kept). */
export function tracesUrl(endpoint: string): string {
  const e = endpoint.trim().replace(/\/+$/, "");
  return /\/v1\/traces$/.test(e) ? e : `${e}/v1/traces`;
}

type ExportCallback = Parameters<SpanExporter["export"]>[1];
const SUCCESS = 0;
const FAILED = 1;

/**
 * An exporter that redacts spans and sends them to every current target. It keeps the spans it has
 * seen (up to `replayLimit`) so that a target added later gets them too.
 */
export class ForwardingExporter implements SpanExporter {
  readonly #targets = new Map<string, SpanExporter>();
  readonly #replay: ReadableSpan[] = [];
  readonly #replayLimit: number;
  readonly #make: (url: string) => SpanExporter;
  readonly #redact: Redactor | undefined;
  #pending = new Set<Promise<unknown>>();

  constructor(make: (url: string) => SpanExporter, options: { replayLimit?: number; redact?: Redactor } = {}) {
    this.#make = make;
    this.#replayLimit = options.replayLimit ?? 10_000;
    this.#redact = options.redact;
  }

  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  #send(target: SpanExporter, spans: ReadableSpan[]): Promise<boolean> {
    if (spans.length === 0) return Promise.resolve(true);
    const p = new Promise<boolean>((resolve) => target.export(spans, (r) => resolve(r.code === SUCCESS)));
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
    return p;
  }

  export(spans: ReadableSpan[], resultCallback: ExportCallback): void {
    const redacted = spans.map((s) => redactSpan(s, this.#redact));
    this.#replay.push(...redacted);
    if (this.#replay.length > this.#replayLimit) this.#replay.splice(0, this.#replay.length - this.#replayLimit);
    const targets = [...this.#targets.values()];
    if (targets.length === 0) {
      resultCallback({ code: SUCCESS });
      return;
    }
    void Promise.all(targets.map((t) => this.#send(t, redacted))).then((oks) => resultCallback({ code: oks.every(Boolean) ? SUCCESS : FAILED }));
  }

  /** Adds a target (an OTLP/HTTP endpoint) and sends it the spans exported so far. */
  async add(endpoint: string, options: { replay?: boolean } = {}): Promise<void> {
    const url = tracesUrl(endpoint);
    if (this.#targets.has(url)) return;
    const target = this.#make(url);
    this.#targets.set(url, target);
    if (options.replay !== false) await this.#send(target, [...this.#replay]);
  }

  /** Removes a target once every export to it has completed. */
  async remove(endpoint: string): Promise<void> {
    const url = tracesUrl(endpoint);
    const target = this.#targets.get(url);
    if (!target) return;
    await this.forceFlush();
    this.#targets.delete(url);
    await target.shutdown().catch(() => {});
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.#pending]);
    await Promise.all([...this.#targets.values()].map((t) => t.forceFlush?.().catch(() => {})));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    const targets = [...this.#targets.values()];
    this.#targets.clear();
    this.#replay.length = 0;
    await Promise.all(targets.map((t) => t.shutdown().catch(() => {})));
  }
}

export interface TelemetryOptions {
  /** An OTLP/HTTP endpoint (`http://host:4318`) to send spans to from the start. */
  endpoint?: string;
  serviceName?: string;
  /** Extra resource attributes (service.version, ...). */
  resourceAttributes?: Attributes;
  /** A last say on every attribute value, after the built-in redaction. */
  redact?: Redactor;
  /** How often the batch processor exports, in ms (default 1000). */
  exportIntervalMs?: number;
}

export interface Telemetry {
  /** Adds an endpoint (a span sink's `otlpHttpEndpoint`); it gets the spans exported so far too. */
  addEndpoint(endpoint: string, options?: { replay?: boolean }): Promise<void>;
  /** Flushes, then stops sending to an endpoint (call before its collector stops). */
  removeEndpoint(endpoint: string): Promise<void>;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Flushes and unregisters the provider. Idempotent. */
  shutdown(): Promise<void>;
  readonly endpoints: readonly string[];
}

/**
 * Registers clnrm's tracer provider. Spans go to `endpoint` (if given) and to every endpoint added
 * later; before any endpoint is known they are kept, and sent once one is added.
 */
export async function startTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const [api, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const forwarder = new ForwardingExporter((url) => new OTLPTraceExporter({ url }), options.redact ? { redact: options.redact } : {});
  if (options.endpoint) await forwarder.add(options.endpoint);
  const processor = new BatchSpanProcessor(forwarder, { scheduledDelayMillis: options.exportIntervalMs ?? 1_000 });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": options.serviceName ?? "clnrm", ...options.resourceAttributes }),
    spanProcessors: [processor],
  });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    get endpoints() {
      return forwarder.targets;
    },
    async addEndpoint(endpoint, o) {
      await processor.forceFlush();
      await forwarder.add(endpoint, o);
    },
    async removeEndpoint(endpoint) {
      await processor.forceFlush();
      await forwarder.remove(endpoint);
    },
    async flush() {
      await processor.forceFlush();
      await forwarder.forceFlush();
    },
    shutdown() {
      stopped ??= (async () => {
        await provider.shutdown().catch(() => {});
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
      })();
      return stopped;
    },
  };
}
