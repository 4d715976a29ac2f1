import { type CleanroomError, ContainerError, HealthError, TimeoutError, toCleanroomError } from "./errors.js";
import { HealthStatus } from "./health.js";
import type { PluginLogger, ServiceHandle, ServicePlugin, StartContext } from "./plugin.js";
import type { ContainerBackend, ContainerSpec, RunContainerOptions, RunningContainer } from "./spec.js";
import { type LifecycleState, StateMachine } from "./state.js";
import { withSpan } from "./tracing.js";

export interface RetryPolicy {
  /** Total start attempts (1 = no retry). */
  attempts: number;
  initialDelayMs: number;
  factor: number;
  maxDelayMs: number;
}

export interface LifecycleTimeouts {
  /** Per start attempt, health wait included. */
  startMs: number;
  /** How long the health check may take to report healthy after start returned. */
  healthMs: number;
  stopMs: number;
  /**
   * How long stop() waits for a start attempt that was abandoned (timed out or cancelled) but whose
   * plugin ignores its abort signal. After it, the attempt's resource scope still removes any
   * container the plugin creates late, and the run's label sweep removes what exists.
   */
  abandonMs: number;
}

/**
 * The health loop's period after `elapsedMs` of waiting: 25 ms for the first 5 s (readiness seen
 * within ~25 ms plus one check), then 100 ms up to 30 s, then 500 ms (a model loading for minutes).
 */
export function healthPollMs(elapsedMs: number): number {
  return elapsedMs < 5_000 ? 25 : elapsedMs < 30_000 ? 100 : 500;
}

/**
 * The pause before the next readiness check, after `elapsedMs` of waiting and a check that took
 * `tookMs`: the period runs from the start of one check to the start of the next (a slow check is
 * not followed by a full period of sleep), but a slow check (an exec probe) gets a pause of half its
 * own time, so that checking never takes more than two thirds of the time. Shared by the health
 * loop and plugin-kit's waitUntilReady.
 */
export function nextCheckInMs(elapsedMs: number, tookMs: number): number {
  return Math.max(5, Math.min(tookMs, 1_000) / 2, healthPollMs(elapsedMs) - tookMs);
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 1, initialDelayMs: 250, factor: 2, maxDelayMs: 5_000 };
export const DEFAULT_TIMEOUTS: LifecycleTimeouts = { startMs: 60_000, healthMs: 30_000, stopMs: 15_000, abandonMs: 2_000 };

/** Delay before attempt `attempt` (2-based: the first retry), with exponential growth and a cap. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 2), policy.maxDelayMs);
}

export interface LifecycleOptions {
  service: string;
  /** The plugin type, for errors and spans. */
  pluginType: string;
  plugin: ServicePlugin;
  retry?: Partial<RetryPolicy>;
  timeouts?: Partial<LifecycleTimeouts>;
  onStateChange?: (state: LifecycleState, service: string) => void;
  /** Extra span attributes (image, ...). Values must already be redacted. */
  attributes?: Record<string, string | number | boolean>;
  /** The plugin's role: a chaos service's containers are sidecars, so its handle needs no primary. */
  role?: "service" | "chaos";
}

export type LifecycleStartContext = Omit<StartContext, "startupTimeoutMs" | "signal" | "service"> & {
  signal?: AbortSignal;
};

const noopLog: PluginLogger = { progress() {}, warn() {}, debug() {} };
const noop = () => {};

/**
 * Runs one service through its lifecycle: validated state transitions, start retries with
 * exponential backoff, a timeout per phase, release of everything a failed attempt allocated, and
 * one span per phase.
 */
export class ServiceLifecycle {
  readonly service: string;
  readonly #opts: LifecycleOptions;
  readonly #machine: StateMachine;
  readonly #retry: RetryPolicy;
  readonly #timeouts: LifecycleTimeouts;
  #handle: ServiceHandle | undefined;
  readonly #abandoned: Promise<void>[] = [];
  #scope: ResourceScope | undefined;
  #stopping: Promise<void> | undefined;
  #log: PluginLogger = noopLog;
  #runId = "";
  #completed: { exitCode: number } | undefined;

  constructor(options: LifecycleOptions) {
    this.service = options.service;
    this.#opts = options;
    this.#machine = new StateMachine(options.service);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  get state(): LifecycleState {
    return this.#machine.state;
  }

  get history(): readonly LifecycleState[] {
    return this.#machine.history;
  }

  get handle(): ServiceHandle | undefined {
    return this.#handle;
  }

  /** A one-shot service that completed: its command's exit code (0). Undefined for a running service. */
  get completed(): { readonly exitCode: number } | undefined {
    return this.#completed;
  }

  #to(state: LifecycleState): void {
    this.#machine.transition(state);
    this.#opts.onStateChange?.(state, this.service);
  }

  async start(ctx: LifecycleStartContext): Promise<ServiceHandle> {
    this.#to("starting");
    this.#log = ctx.log;
    this.#runId = ctx.runId;
    let lastError: CleanroomError | undefined;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      if (attempt > 1) {
        const delay = backoffDelay(this.#retry, attempt);
        ctx.log.progress(`retrying start (attempt ${attempt}/${this.#retry.attempts}) in ${delay} ms: ${lastError?.message}`);
        await sleep(delay, ctx.signal);
      }
      if (ctx.signal?.aborted) break;
      const scope = new ResourceScope(ctx.backend);
      try {
        const { handle, completed } = await this.#span("start", { "clnrm.attempt": attempt }, () => this.#attempt(ctx, scope));
        this.#handle = handle;
        this.#scope = scope;
        if (completed) {
          this.#completed = { exitCode: completed.exitCode ?? 0 };
          this.#to("completed");
        } else {
          this.#to("running");
        }
        return handle;
      } catch (err) {
        lastError = this.#wrap(err);
        await scope.release();
        // A missing image or GPU runtime won't appear between attempts, nor will a plugin's bug.
        if (lastError.environment || contractErrors.has(lastError)) break;
      }
    }
    this.#to("failed");
    throw lastError ?? new ContainerError(`service '${this.service}' start was cancelled`, { code: "CLNRM_ERR_START_CANCELLED", service: this.service });
  }

  async #attempt(ctx: LifecycleStartContext, scope: ResourceScope): Promise<{ handle: ServiceHandle; completed?: HealthStatus }> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(ctx.signal?.reason);
    ctx.signal?.addEventListener("abort", onAbort, { once: true });
    const startMs = this.#timeouts.startMs;
    try {
      // The start timeout covers the whole attempt: the plugin's start and the health wait.
      const work = (async () => {
        const handle = await this.#opts.plugin.start({
          ...ctx,
          service: this.service,
          backend: scope.backend,
          signal: controller.signal,
          startupTimeoutMs: startMs,
        });
        // The scope owns what the handle names (so a plugin needs no stop for its containers).
        scope.adopt(Array.isArray(handle?.containers) ? handle.containers.filter((c) => typeof c?.remove === "function") : []);
        const problem = handleProblem(handle, this.service, this.#opts.role);
        if (problem) {
          const err = new ContainerError(`plugin '${this.#opts.pluginType}' returned an invalid handle for service '${this.service}': ${problem}`, {
            code: "CLNRM_ERR_INVALID_HANDLE",
            service: this.service,
            hint: "this is a bug in the plugin; see the ServiceHandle contract in docs/plugin-authoring.md",
          });
          contractErrors.add(err);
          if (handle && typeof handle === "object") await this.#pluginStop(handle, ctx.runId, ctx.log).catch(() => {});
          throw err;
        }
        try {
          // Abandoned (timed out or cancelled) while the plugin was starting: don't go on to health.
          if (controller.signal.aborted) throw controller.signal.reason;
          const status = await this.#span("health", {}, () => this.#awaitHealthy(handle, controller.signal));
          return status.status === "completed" ? { handle, completed: status } : { handle };
        } catch (err) {
          // The plugin may hold more than containers (temp dirs, sidecar state): let it release them.
          await this.#pluginStop(handle, ctx.runId, ctx.log).catch(() => {});
          throw err;
        }
      })();
      // A timed-out or cancelled attempt may still be creating a container; stop() waits for it to
      // settle (the scope removes what it creates), so that the process doesn't exit before that.
      this.#abandoned.push(work.then(noop, noop));
      return await withTimeout(
        work,
        startMs,
        () =>
          new TimeoutError(`service '${this.service}' (${this.#opts.pluginType}) did not start within ${fmtMs(startMs)}`, startMs, {
            service: this.service,
            hint: "raise the service's startup timeout, or check its image and logs",
          }),
        controller,
      );
    } catch (err) {
      // Wrapped here, inside the start span, so that the span records the error's code too.
      throw this.#wrap(err);
    } finally {
      ctx.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Resolves with the healthy (or completed: a one-shot service that exited 0) status. Checks on a
   * fixed cadence (healthPollMs), not a backoff: a service that gets ready just after a check is
   * seen within one period, not up to a second later.
   */
  async #awaitHealthy(handle: ServiceHandle, signal: AbortSignal): Promise<HealthStatus> {
    const started = Date.now();
    const deadline = started + this.#timeouts.healthMs;
    let last: HealthStatus | undefined;
    const healthMs = this.#timeouts.healthMs;
    for (;;) {
      const checkStarted = Date.now();
      // Bound each check by the time left, so that a check that never answers can't hang the start.
      last = await withTimeout(
        this.#opts.plugin.healthCheck(handle),
        healthMs > 0 ? Math.max(1, deadline - Date.now()) : 0,
        () =>
          new HealthError(`service '${this.service}' health check did not answer within ${fmtMs(healthMs)}`, {
            service: this.service,
            ...(last?.reason ? { hint: `last status: ${last.status}: ${last.reason}` } : {}),
          }),
      );
      if (last.status === "healthy" || last.status === "completed") return last;
      if (last.final) {
        throw new HealthError(`service '${this.service}' is ${last.status}${last.reason ? `: ${last.reason}` : ""}`, { service: this.service });
      }
      const now = Date.now();
      const delay = nextCheckInMs(now - started, now - checkStarted);
      if (now + delay > deadline || signal.aborted) break;
      await sleep(delay, signal);
    }
    throw new HealthError(
      `service '${this.service}' is ${last.status} after ${fmtMs(this.#timeouts.healthMs)}${last.reason ? `: ${last.reason}` : ""}`,
      { service: this.service },
    );
  }

  /** Current health, for callers that poll a running service. */
  async healthCheck(): Promise<HealthStatus> {
    if (this.#completed) return HealthStatus.completed(this.#completed.exitCode);
    if (!this.#handle) return { status: "unknown", reason: `service is ${this.state}` };
    return this.#opts.plugin.healthCheck(this.#handle);
  }

  /**
   * Stops the service and releases everything it allocated. Idempotent (a second call returns the
   * first call's outcome, once it is done); safe in any state. A failed stop leaves the service
   * failed, with its containers released all the same.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#machine.state !== "running" && this.#machine.state !== "completed") {
      // Failed or starting: an abandoned attempt may still be creating a container, which its scope
      // removes; wait for that, so that the run doesn't end before it.
      await this.#settleAbandoned();
      if (this.#stopping) return this.#stopping;
      if (this.#machine.state === "initialized") this.#to("stopped");
      // Stopped already; failed (a failed start released what it allocated); or starting (the start
      // owns its resources, and releases them if it fails): nothing to stop.
      const now = this.#machine.state as LifecycleState;
      if (now !== "running" && now !== "completed") return;
    }
    this.#to("stopping");
    this.#stopping = this.#stop(this.#handle, this.#scope);
    return this.#stopping;
  }

  /**
   * Waits (up to `abandonMs`, 2 s by default) for start attempts that were abandoned but are still
   * running: a plugin that honours its abort signal settles at once. One that ignores it is not
   * waited for longer: its attempt's scope is released, so a container it creates later is removed
   * as soon as it exists, and the run sweeps its label for what exists now.
   */
  async #settleAbandoned(): Promise<void> {
    if (this.#abandoned.length === 0) return;
    const all = Promise.all(this.#abandoned);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, this.#timeouts.abandonMs)))]);
    clearTimeout(timer);
  }

  async #stop(handle: ServiceHandle | undefined, scope: ResourceScope | undefined): Promise<void> {
    try {
      await this.#stopSpan(handle, scope);
    } catch (err) {
      this.#to("failed");
      throw err;
    }
    this.#to("stopped");
  }

  #stopSpan(handle: ServiceHandle | undefined, scope: ResourceScope | undefined): Promise<void> {
    return this.#span("stop", {}, async () => {
      try {
        if (handle && this.#opts.plugin.stop) {
          const stopMs = this.#timeouts.stopMs;
          await withTimeout(
            this.#pluginStop(handle, this.#runId, this.#log),
            stopMs,
            () => new TimeoutError(`service '${this.service}' did not stop within ${fmtMs(stopMs)}`, stopMs, { service: this.service }),
          );
        }
      } finally {
        // Whatever the plugin did or didn't do, nothing it started outlives the service.
        await scope?.release();
      }
    });
  }

  /** The plugin's own stop, if it has one (its containers are the scope's to remove, not its). */
  async #pluginStop(handle: ServiceHandle, runId: string, log: PluginLogger): Promise<void> {
    const { plugin } = this.#opts;
    if (typeof plugin.stop === "function") await plugin.stop(handle, { service: this.service, runId, log });
  }

  #wrap(err: unknown): CleanroomError {
    return toCleanroomError(err, { service: this.service, context: `service '${this.service}' (${this.#opts.pluginType}) failed to start` });
  }

  #span<T>(phase: string, attrs: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
    return withSpan(`clnrm.service.${phase}`, { "clnrm.service": this.service, "clnrm.plugin": this.#opts.pluginType, ...this.#opts.attributes, ...attrs }, fn);
  }
}

/** Errors that say a plugin broke its contract: retrying the start won't help. */
const contractErrors = new WeakSet<object>();

/**
 * What is wrong with a handle a plugin's start returned, or undefined when it keeps the contract:
 * `service` is the service's name, `containers` an array of containers (each one the lifecycle can
 * remove), `primary` (required when there are containers, except for a chaos plugin's sidecars)
 * one of them, every output a scalar, and `notices`, if any, strings. A handle without a primary
 * would let a step run on the host; one with a container the scope can't remove would leak it.
 */
export function handleProblem(handle: unknown, service: string, role: "service" | "chaos" = "service"): string | undefined {
  if (typeof handle !== "object" || handle === null) return `start resolved to ${handle === null ? "null" : typeof handle}, not a ServiceHandle`;
  const h = handle as Partial<Record<keyof ServiceHandle, unknown>>;
  if (h.service !== service) return `handle.service is ${JSON.stringify(h.service)}, expected "${service}"`;
  if (!Array.isArray(h.containers)) return "handle.containers is not an array";
  const notContainer = h.containers.findIndex((c) => typeof c !== "object" || c === null || typeof (c as { remove?: unknown }).remove !== "function");
  if (notContainer >= 0) return `handle.containers[${notContainer}] is not a RunningContainer (start it with ctx.backend.run)`;
  if (h.primary !== undefined && !h.containers.includes(h.primary)) return "handle.primary is not one of handle.containers";
  if (h.primary === undefined && h.containers.length > 0 && role !== "chaos") {
    return `handle.primary is missing (${h.containers.length} container${h.containers.length === 1 ? "" : "s"} returned); steps exec in the primary container`;
  }
  if (typeof h.outputs !== "object" || h.outputs === null || Array.isArray(h.outputs)) return "handle.outputs is not an object of strings, numbers and booleans";
  for (const [key, value] of Object.entries(h.outputs)) {
    const ok = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!ok) return `output '${key}' is ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}; outputs must be strings, finite numbers or booleans`;
  }
  if (h.notices !== undefined && !(Array.isArray(h.notices) && h.notices.every((n) => typeof n === "string"))) return "handle.notices is not an array of strings";
  return undefined;
}

/**
 * Tracks every container started through its backend, so that a failed or timed-out start can be
 * undone. Every run through it carries the scope's own abort signal (besides the plugin's), so that
 * once the scope is released a run still in flight is cancelled by the backend, even when the plugin
 * passed no signal; and any container that a still-running plugin start creates anyway is removed
 * at once.
 */
export class ResourceScope {
  readonly #inner: ContainerBackend;
  readonly #containers = new Set<RunningContainer>();
  readonly #abandon = new AbortController();
  #released = false;
  readonly backend: ContainerBackend;

  constructor(inner: ContainerBackend) {
    this.#inner = inner;
    this.backend = {
      name: inner.name,
      ping: () => inner.ping(),
      createNetwork: (runId) => inner.createNetwork(runId),
      sweep: (o) => inner.sweep(o),
      run: (spec: ContainerSpec, options: RunContainerOptions) => this.#run(spec, options),
      ...(inner.capabilities ? { capabilities: () => inner.capabilities!() } : {}),
    };
  }

  async #run(spec: ContainerSpec, options: RunContainerOptions): Promise<RunningContainer> {
    const own = this.#abandon.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, own]) : own;
    const container = await this.#inner.run(spec, { ...options, signal });
    if (this.#released) {
      await container.remove({ timeoutMs: 0 }).catch(() => {});
      throw new ContainerError(`service '${options.service}': start was abandoned; its late container was removed`, { code: "CLNRM_ERR_START_CANCELLED" });
    }
    this.#containers.add(container);
    return container;
  }

  /** Tracks containers started some other way. After the release, they are removed at once. */
  adopt(containers: readonly RunningContainer[]): void {
    for (const c of containers) {
      if (this.#released) void c.remove({ timeoutMs: 0 }).catch(() => {});
      else this.#containers.add(c);
    }
  }

  get size(): number {
    return this.#containers.size;
  }

  async release(): Promise<void> {
    this.#released = true;
    this.#abandon.abort(new ContainerError("start was abandoned", { code: "CLNRM_ERR_START_CANCELLED" }));
    const all = [...this.#containers].reverse();
    this.#containers.clear();
    await Promise.all(all.map((c) => c.remove({ timeoutMs: 0 }).catch(() => {})));
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * `promise`, or a rejection as soon as `signal` aborts: with `reason()` if given, else the signal's
 * reason. The promise itself goes on; only the wait for it ends.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, reason?: () => unknown): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason ? reason() : (signal.reason ?? new Error("aborted")));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Races a promise against a timeout; on timeout, aborts `controller` and rejects with `onTimeout()`.
 * When `controller` is aborted from elsewhere (the run was cancelled), rejects at once with its reason,
 * so that a plugin that ignores its abort signal cannot hold up a SIGINT.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, controller?: AbortController): Promise<T> {
  const timed = Number.isFinite(ms) && ms > 0;
  if (!timed && !controller) return promise;
  return new Promise<T>((resolve, reject) => {
    const signal = controller?.signal;
    const onAbort = () => {
      done();
      reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason ?? "aborted")));
    };
    const t = timed
      ? setTimeout(() => {
          const err = onTimeout();
          done();
          controller?.abort(err);
          reject(err);
        }, ms)
      : undefined;
    function done() {
      if (t) clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        done();
        resolve(v);
      },
      (e) => {
        done();
        reject(e);
      },
    );
  });
}

export function fmtMs(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

/** Why a step can't target a one-shot service that completed (one line, with what to do). */
export function completedServiceStepFailure(service: string, exitCode = 0): string {
  return `service '${service}' is a one-shot service that completed (exit ${exitCode}); steps need a running service — keep its command running (e.g. "sleep infinity") or give it a health_check, or target another service`;
}
