/**
 * clnrm's own traces. core and runner create spans through @opentelemetry/api (a no-op until a
 * provider is registered); `startTelemetry` registers a NodeTracerProvider that exports them over
 * OTLP/HTTP (JSON) to an endpoint given up front, and/or to endpoints added later (the
 * otel_collector service of a run, known only once it has started). Secrets are redacted before
 * any span leaves the process. The SDK is loaded lazily, only when telemetry is started.
 */
import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
export declare const REDACTED = "[redacted]";
/** Attribute keys whose values are always redacted. */
export declare const SECRET_KEY_RE: RegExp;
/** Values shorter than this aren't registered: redacting every "1" or "ab" would garble every span. */
export declare const MIN_SECRET_LENGTH = 3;
/** Registers a secret value: any span attribute, name, event or status message containing it is redacted. */
export declare function registerSecret(value: string | undefined | null): void;
/** Forgets every registered secret (for tests). */
export declare function clearSecrets(): void;
/** Registers the values of env vars that look secret (*_TOKEN, *_PASSWORD, *_KEY, *_SECRET, *_PASS). */
export declare function registerSecretEnv(env?: Record<string, string | undefined>): void;
/** Replaces every registered secret in a string. */
export declare function redactString(s: string): string;
export type Redactor = (key: string, value: AttributeValue) => AttributeValue;
/** The attributes with secrets redacted: by key name, by registered secret value, then by `extra`. */
export declare function redactAttributes(attributes: Attributes, extra?: Redactor): Attributes;
/** A copy of a finished span with its attributes, event attributes, name and status message redacted. */
export declare function redactSpan(span: ReadableSpan, extra?: Redactor): ReadableSpan;
/** `http://host:4318` -> `http://host:4318/v1/traces` (an endpoint that ends in /v1/traces is kept). */
export declare function tracesUrl(endpoint: string): string;
type ExportCallback = Parameters<SpanExporter["export"]>[1];
/**
 * An exporter that redacts spans and sends them to every current target. It keeps the spans it has
 * seen (up to `replayLimit`) so that a target added later gets them too.
 */
export declare class ForwardingExporter implements SpanExporter {
    #private;
    constructor(make: (url: string) => SpanExporter, options?: {
        replayLimit?: number;
        redact?: Redactor;
    });
    get targets(): string[];
    export(spans: ReadableSpan[], resultCallback: ExportCallback): void;
    /** Adds a target (an OTLP/HTTP endpoint) and sends it the spans exported so far. */
    add(endpoint: string, options?: {
        replay?: boolean;
    }): Promise<void>;
    /** Removes a target once every export to it has completed. */
    remove(endpoint: string): Promise<void>;
    forceFlush(): Promise<void>;
    shutdown(): Promise<void>;
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
    /** Adds an endpoint (an otel_collector's `otlp_http_endpoint`); it gets the spans exported so far too. */
    addEndpoint(endpoint: string, options?: {
        replay?: boolean;
    }): Promise<void>;
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
export declare function startTelemetry(options?: TelemetryOptions): Promise<Telemetry>;
export {};
//# sourceMappingURL=telemetry.d.ts.map