/**
 * The plugin contract of clnrm: the types a plugin implements, `definePlugin`, and the constants a
 * loader needs to tell a plugin definition (and its API version) from any other export. Types and
 * pure functions only: importing this module does nothing.
 */
import type { z } from "zod";
import type { PluginCapabilities } from "./capabilities.js";
import type { HealthStatus } from "./health.js";
import type { ContainerBackend, NetworkHandle, RunContainerOptions, RunningContainer } from "./spec.js";

/** The brand every plugin definition carries, so a loader can tell one from any other default export. */
export const PLUGIN_BRAND = "@clnrm/plugin" as const;
/** The newest plugin API this package describes, and the one `definePlugin` writes. Its major version is this number. */
export const PLUGIN_API_VERSION = 1;

/** A problem a plugin's `check` found in a validated config: the config key it concerns, and what is wrong. */
export interface ConfigIssue {
  /** Path inside the validated value, e.g. ["ports", 0]. */
  path: (string | number)[];
  message: string;
}

export type OutputValue = string | number | boolean;
export type Outputs = Record<string, OutputValue>;

/** The fields every handle has, whatever its plugin's private state. */
export interface ServiceHandleFields {
  readonly service: string;
  /** The container that steps exec in, if the service has one. */
  readonly primary?: RunningContainer;
  /**
   * Every container the service started (primary included). The lifecycle removes them when the
   * service stops (and when a start fails), whether or not the plugin has a `stop`.
   */
  readonly containers: readonly RunningContainer[];
  /** Values other services and steps can reference as `${services.NAME.KEY}`. */
  readonly outputs: Outputs;
  /**
   * What the run output should show about this service: its host mounts, privileges and added
   * capabilities (`describeSpecNotices(spec)` builds them from a spec).
   */
  readonly notices?: readonly string[];
}

/**
 * What a running service gives back: its containers, its outputs (host, port, url, ...) and its
 * plugin's private state `data`. `Data` is inferred by `definePlugin` from what `start` returns,
 * so the plugin's own `healthCheck` and `stop` read `handle.data` typed, without a cast (it is
 * optional: `handle.data?.url`). Code that holds any plugin's handle sees `ServiceHandle`
 * (`data: unknown`).
 */
export interface ServiceHandle<Data = unknown> extends ServiceHandleFields {
  /** Plugin-private state. */
  readonly data?: Data;
}

export interface PluginLogger {
  /** A progress line ("pulling model llama2: 42%"). */
  progress(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface StartContext {
  readonly service: string;
  readonly runId: string;
  /** The engine. Every container started through it is released if the start fails. */
  readonly backend: ContainerBackend;
  /** The run's network; every service is reachable on it by its name. */
  readonly network: NetworkHandle | undefined;
  /** Directory of the test file: relative paths in config resolve against it. */
  readonly baseDir: string;
  readonly signal: AbortSignal;
  readonly log: PluginLogger;
  /** Startup timeout for this attempt, in ms. */
  readonly startupTimeoutMs: number;
  /** Outputs of the services this one depends on. */
  readonly dependencies: Readonly<Record<string, Outputs>>;
  /** Handles of the services this one depends on (a chaos plugin acts on their containers). */
  readonly services: ReadonlyMap<string, ServiceHandle>;
}

export interface StopContext {
  readonly service: string;
  readonly runId: string;
  readonly log: PluginLogger;
}

/**
 * A service instance: created from a validated config, then started, checked and stopped. `Data`
 * is the type of its handles' `data` (see ServiceHandle).
 */
export interface ServicePlugin<Data = unknown> {
  start(ctx: StartContext): Promise<ServiceHandle<Data>>;
  healthCheck(handle: ServiceHandle<Data>): Promise<HealthStatus>;
  /**
   * Optional: releases what the service holds besides its containers (temp dirs, sidecar state,
   * a connection). The lifecycle removes `handle.containers` after it, or without it: a plugin
   * whose service is only containers needs no `stop`. Must be idempotent.
   */
  stop?(handle: ServiceHandle<Data>, ctx: StopContext): Promise<void>;
}

export interface CreateContext {
  readonly service: string;
  readonly baseDir: string;
}

/** Lifecycle defaults a plugin may set (LLM servers need minutes to start, for example). */
export interface PluginDefaults {
  startupTimeoutMs?: number;
  startAttempts?: number;
}

/**
 * A plugin definition of plugin API v1: what `definePlugin` returns. A later API version gets its
 * own interface (`PluginDefinitionV2`, with `apiVersion: 2`) beside this one, so a core can load
 * both while plugins move over.
 */
export interface PluginDefinitionV1<Schema extends z.ZodType = z.ZodType, Data = unknown> {
  readonly $$type: typeof PLUGIN_BRAND;
  /** The plugin API this definition is written against. */
  readonly apiVersion: 1;
  /** The `type = "..."` name this definition provides. */
  readonly type: string;
  readonly description: string;
  /** Validates a service table (without `type`). Unknown keys should be rejected (`.strict()`). */
  readonly configSchema: Schema;
  /** Config keys whose values are secret: redacted in logs, reports and spans (a dotted path for a nested key: "auth.pass"). */
  readonly secretFields?: readonly string[];
  readonly defaults?: PluginDefaults;
  /** "chaos": the service acts on others. Steps can't target it, and it starts after every non-chaos service. */
  readonly role?: "service" | "chaos";
  /** What the plugin provides beyond a service (a span sink, ...): the runner and CLI ask for these, never for a type. */
  readonly capabilities?: PluginCapabilities<ServiceHandle<Data>>;
  /**
   * Names of other services a validated config refers to (chaos targets, for example). The runner
   * checks they exist, reports a validation error otherwise, and starts them first.
   */
  serviceRefs?(config: z.output<Schema>): string[];
  /**
   * The output names a service with this config will have (`host`, `port`, `url`, ...). When a
   * plugin declares them, `validate` refuses a `${services.NAME.KEY}` whose KEY is not one of them.
   */
  outputs?(config: z.output<Schema>): readonly string[];
  /**
   * Checks of a validated config that need the test file's directory (a file it names exists, for
   * example). Each problem names the config key it concerns; `validate` and `run` report them with
   * the key's position before anything starts.
   */
  check?(config: z.output<Schema>, ctx: CreateContext): ConfigIssue[];
  /** Creates a service instance; its `start`'s handle type gives `Data` (inferred by `definePlugin`). */
  create(config: z.output<Schema>, ctx: CreateContext): ServicePlugin<Data>;
}

/** The plugin definitions of every API version this package describes (v1 today; a v2 joins the union). */
export type AnyPluginDefinition = PluginDefinitionV1;

/** The definition of the current plugin API: the one plugins write today. */
export type PluginDefinition<Schema extends z.ZodType = z.ZodType, Data = unknown> = PluginDefinitionV1<Schema, Data>;

/** What every plugin definition has, whatever its API version: enough for a loader to tell which version it is. */
export interface BrandedDefinition {
  readonly $$type: typeof PLUGIN_BRAND;
  readonly apiVersion: number;
  readonly type: string;
}

export type PluginDefinitionInput<Schema extends z.ZodType, Data = unknown> = Omit<PluginDefinitionV1<Schema, Data>, "$$type" | "apiVersion">;

/**
 * Declares a plugin of plugin API v1. The result is the package's default export. The config type
 * comes from `configSchema`, the handle's `data` type from what `create(...).start` returns.
 */
export function definePlugin<Schema extends z.ZodType, Data = unknown>(input: PluginDefinitionInput<Schema, Data>): PluginDefinitionV1<Schema, Data> {
  return Object.freeze({ ...input, $$type: PLUGIN_BRAND, apiVersion: 1 as const });
}

/**
 * True when a value is a branded plugin definition of some API version (brand, numeric apiVersion,
 * type, schema, create). Whether this runtime supports that version is the loader's question:
 * see `isSupportedDefinition`.
 */
export function isPluginDefinition(value: unknown): value is BrandedDefinition {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.$$type === PLUGIN_BRAND &&
    typeof v.type === "string" &&
    typeof v.apiVersion === "number" &&
    typeof v.create === "function" &&
    typeof v.configSchema === "object" &&
    v.configSchema !== null
  );
}

/** True when a branded definition is of an API version in `supported` (a runtime's list). */
export function isSupportedDefinition(value: BrandedDefinition, supported: readonly number[]): value is AnyPluginDefinition {
  return supported.includes(value.apiVersion);
}

/**
 * The options for `ctx.backend.run(spec, runOptions(ctx))`: this service's run id, name, network,
 * startup timeout and cancellation signal.
 */
export function runOptions(ctx: StartContext, overrides: Partial<RunContainerOptions> = {}): RunContainerOptions {
  return {
    runId: ctx.runId,
    service: ctx.service,
    startupTimeoutMs: ctx.startupTimeoutMs,
    signal: ctx.signal,
    ...(ctx.network ? { network: ctx.network } : {}),
    ...overrides,
  };
}
