/**
 * Capabilities: what a plugin provides beyond a running service, declared on its definition
 * (`definePlugin({ ..., capabilities: { spanSink: { ... } } })`). The runner and the CLI ask a
 * definition for a capability (`capabilityOf(definition, "spanSink")`), never for a plugin type, so
 * any plugin that declares a capability is used the same way. Each capability's types live here, once.
 */
import { ValidationError } from "./errors.js";
import type { ServiceHandle } from "./plugin.js";

export type SpanAttributeValue = string | number | boolean | null | SpanAttributeValue[] | { [key: string]: SpanAttributeValue };

export type SpanKindName = "unspecified" | "internal" | "server" | "client" | "producer" | "consumer";
export type SpanStatusName = "unset" | "ok" | "error";

/** One span a span sink received, as span expectations see it. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty string for a root span. */
  parentSpanId: string;
  name: string;
  kind: SpanKindName;
  status: { code: SpanStatusName; message: string };
  attributes: Record<string, SpanAttributeValue>;
  /** Nanoseconds since the epoch, as a decimal string (too large for a number). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationMs: number;
  /** Resource attributes (service.name, ...). */
  resource: Record<string, SpanAttributeValue>;
  /** Instrumentation scope name ("" when the sender set none). */
  scope: string;
}

/**
 * A service that receives OpenTelemetry traces and can report them back: `[[expect.spans]]` read
 * its spans, and `clnrm run` exports its own spans to it while the run is up.
 */
export interface SpanSink<Handle extends ServiceHandle = ServiceHandle> {
  /** OTLP/HTTP base URL reachable from the host clnrm runs on (`http://HOST:PORT`, without `/v1/traces`). */
  otlpHttpEndpoint(handle: Handle): string;
  /** Every span received so far, in arrival order; none yet is an empty list, not an error. */
  readSpans(handle: Handle): Promise<CollectedSpan[]>;
}

/** The capabilities a plugin definition may declare. Each is optional; a core ignores names it does not know. */
export interface PluginCapabilities<Handle extends ServiceHandle = ServiceHandle> {
  readonly spanSink?: SpanSink<Handle>;
}

export type CapabilityName = keyof PluginCapabilities;

/** The functions each capability must have. */
const CAPABILITY_METHODS: { readonly [K in CapabilityName]-?: readonly (keyof NonNullable<PluginCapabilities[K]>)[] } = {
  spanSink: ["otlpHttpEndpoint", "readSpans"],
};

/** The capability names this core knows. */
export const CAPABILITY_NAMES = Object.keys(CAPABILITY_METHODS) as readonly CapabilityName[];

interface HasCapabilities {
  readonly type: string;
  readonly capabilities?: PluginCapabilities;
}

/**
 * One line per malformed capability of a definition (not an object, a function missing). Names
 * this core does not know are not problems: a plugin may target a newer core.
 */
export function capabilityProblems(definition: { readonly type: string; readonly capabilities?: unknown }): string[] {
  const caps = definition.capabilities;
  if (caps === undefined) return [];
  if (typeof caps !== "object" || caps === null) return [`plugin '${definition.type}': capabilities must be an object, e.g. { spanSink: { ... } }`];
  const problems: string[] = [];
  for (const name of CAPABILITY_NAMES) {
    const cap = (caps as Record<string, unknown>)[name];
    if (cap === undefined) continue;
    if (typeof cap !== "object" || cap === null) {
      problems.push(`plugin '${definition.type}': capabilities.${name} must be an object with ${CAPABILITY_METHODS[name].join(", ")}`);
      continue;
    }
    const missing = CAPABILITY_METHODS[name].filter((m) => typeof (cap as Record<string, unknown>)[m] !== "function");
    if (missing.length) problems.push(`plugin '${definition.type}': capabilities.${name} has no ${missing.map((m) => `${m}()`).join(" or ")}`);
  }
  return problems;
}

/**
 * The capability a plugin definition provides, or undefined when it provides none of that name.
 * A malformed one (a function missing) is a ValidationError naming the plugin.
 */
export function capabilityOf<K extends CapabilityName>(definition: HasCapabilities, name: K): NonNullable<PluginCapabilities[K]> | undefined {
  const cap = definition.capabilities?.[name];
  if (cap === undefined) return undefined;
  const problem = capabilityProblems({ type: definition.type, capabilities: { [name]: cap } })[0];
  if (problem) throw new ValidationError(problem, { hint: "the plugin is broken: update it or tell its author" });
  return cap as NonNullable<PluginCapabilities[K]>;
}
