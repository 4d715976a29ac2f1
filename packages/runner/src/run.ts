import { randomBytes } from "node:crypto";
import {
  type CleanroomError,
  createError,
  type ContainerBackend,
  capabilityOf,
  fmtMs,
  type NetworkHandle,
  type Outputs,
  ServiceLifecycle,
  completedServiceStepFailure,
  type ServicePlugin,
  type SpanSink,
  ValidationError,
  describeZodIssues,
  formatPath,
  isCleanroomError,
  markSpanFailed,
  toCleanroomError,
  withSpan,
} from "@clnrm/core";
import { registerPlanSecrets, type ServicePlan, type TestPlan } from "./plan.js";
import { interpolate } from "./refs.js";
import { type SpanExpectation, checkSpanExpectations } from "./spans.js";
import { type StepResult, runStep } from "./steps.js";

export type RunEvent =
  | { type: "test:start"; test: string; runId: string }
  | { type: "service:starting"; test: string; service: string; plugin: string }
  | { type: "service:progress"; test: string; service: string; message: string }
  | {
      type: "service:ready";
      test: string;
      service: string;
      outputs: Outputs;
      durationMs: number;
      notices: readonly string[];
      /** Set for a one-shot service: its command exited 0 before it was ready (it completed). */
      completed?: { readonly exitCode: number };
      /** Set when the service's plugin is a span sink: where clnrm can export its own spans (OTLP/HTTP). */
      spanSink?: { readonly otlpHttpEndpoint: string };
    }
  | { type: "service:failed"; test: string; service: string; error: CleanroomError }
  /**
   * Every service is ready. `criticalPath`: the chain of services that decided when (the last one
   * ready, the dependency it waited for last, and so on), first to start first; ms since the start
   * of the services (the run's network included).
   */
  | { type: "services:ready"; test: string; durationMs: number; criticalPath: readonly CriticalPathEntry[] }
  | { type: "step:start"; test: string; step: string; service: string | undefined }
  | { type: "step:end"; test: string; result: StepResult }
  /** `left`: one line for each resource teardown could not remove (`clnrm gc` may, later). */
  | { type: "teardown"; test: string; durationMs: number; left?: readonly string[] }
  | { type: "test:end"; test: string; result: TestResult };

export interface CriticalPathEntry {
  readonly service: string;
  /** When its start began (its dependencies were ready). */
  readonly startMs: number;
  readonly readyMs: number;
}

export interface ServiceResult {
  readonly name: string;
  readonly type: string;
  readonly package: string;
  /** completed: a one-shot service whose command exited 0 before it was ready. */
  readonly status: "running" | "completed" | "failed" | "not_started";
  readonly startMs: number | undefined;
  readonly outputs: Outputs;
  readonly error?: string;
}

export interface TestResult {
  readonly file: string;
  readonly name: string;
  readonly runId: string;
  /** passed: every step passed. failed: a step failed. error: a service failed, or the run was interrupted. */
  readonly status: "passed" | "failed" | "error";
  readonly durationMs: number;
  readonly teardownMs: number;
  /** What teardown could not remove, one line each (absent when it removed everything). */
  readonly leftBehind?: readonly string[];
  readonly services: readonly ServiceResult[];
  readonly steps: readonly StepResult[];
  /** environment: the machine lacks something the test needs (an image, a GPU runtime); the CLI exits 2. */
  readonly error?: { code: string; message: string; service?: string; environment?: true };
}

export interface RunOptions {
  backend: ContainerBackend;
  /** Called after the steps and before span expectations and teardown (flush telemetry here). */
  beforeTeardown?: (services: ServiceSet) => Promise<void>;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Run id; a random one by default. */
  runId?: string;
}

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

/** A started set of services: the part of a run that the programmatic API hands out. */
export class ServiceSet {
  readonly #plan: TestPlan;
  readonly #backend: ContainerBackend;
  readonly runId: string;
  readonly #lifecycles = new Map<string, ServiceLifecycle>();
  readonly outputs = new Map<string, Outputs>();
  readonly results = new Map<string, ServiceResult>();
  #network: NetworkHandle | undefined;
  readonly #emit: (e: RunEvent) => void;

  constructor(plan: TestPlan, backend: ContainerBackend, runId: string, emit: (e: RunEvent) => void = () => {}) {
    this.#plan = plan;
    this.#backend = backend;
    this.runId = runId;
    this.#emit = emit;
    // The run starts here: from now on what it prints passes through redaction of the file's secrets.
    registerPlanSecrets(plan);
    for (const [name, svc] of plan.services) {
      this.results.set(name, { name, type: svc.type, package: svc.plugin.package, status: "not_started", startMs: undefined, outputs: {} });
    }
  }

  lifecycle(name: string): ServiceLifecycle | undefined {
    return this.#lifecycles.get(name);
  }

  /**
   * Starts every service as soon as its own dependencies are ready (not wave by wave: a slow
   * service delays only what depends on it). Throws the first failure, once every start in flight
   * has settled; a service not started yet when something failed is not started.
   * The run's network, where services reach each other by name, exists when there are several
   * services: a lone service has no one to reach (it still resolves its own name), and creating and
   * removing a network is a third of a one-service run's engine time.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#plan.services.size === 0) return;
    const t0 = performance.now();
    // A step with `image` and no `service` runs on the run's network: it needs one even beside a lone service.
    if (this.#plan.services.size > 1 || this.#plan.steps.some((s) => s.image !== undefined && s.service === undefined)) this.#network = await this.#backend.createNetwork(this.runId);
    const ready = new Map<string, Promise<void>>();
    const timing = new Map<string, { startMs: number; readyMs: number; after?: string }>();
    let first: { error: unknown } | undefined;
    const notStarted = new Error("not started: an earlier start failed");
    // Waves are a topological order: every service comes after its dependencies.
    for (const name of this.#plan.waves.flat()) {
      const svc = this.#plan.services.get(name)!;
      const deps = svc.dependsOn.map((d) => ready.get(d)!);
      const start = (async () => {
        await Promise.all(deps).catch(() => {
          throw notStarted;
        });
        if (first) throw notStarted;
        const startMs = performance.now() - t0;
        try {
          if (signal.aborted) throw interrupted(signal);
          await this.#startOne(svc, signal);
        } catch (err) {
          first ??= { error: err };
          throw err;
        }
        // What it waited for last: the dependency on its critical path.
        const after = svc.dependsOn.reduce<string | undefined>((a, d) => (a === undefined || timing.get(d)!.readyMs > timing.get(a)!.readyMs ? d : a), undefined);
        timing.set(name, { startMs, readyMs: performance.now() - t0, ...(after ? { after } : {}) });
      })();
      start.catch(() => {});
      ready.set(name, start);
    }
    const results = await Promise.allSettled(ready.values());
    if (first) throw first.error;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    this.#emit({ type: "services:ready", test: this.#plan.name, durationMs: performance.now() - t0, criticalPath: criticalPath(timing) });
  }

  async #startOne(svc: ServicePlan, signal: AbortSignal): Promise<void> {
    const test = this.#plan.name;
    this.#emit({ type: "service:starting", test, service: svc.name, plugin: svc.type });
    const started = performance.now();
    try {
      const plugin = this.#createPlugin(svc);
      const defaults = svc.plugin.definition.defaults;
      const startMs = svc.startupTimeoutMs ?? defaults?.startupTimeoutMs;
      const lifecycle = new ServiceLifecycle({
        service: svc.name,
        pluginType: svc.type,
        plugin,
        ...(svc.plugin.definition.role ? { role: svc.plugin.definition.role } : {}),
        retry: { attempts: svc.startAttempts ?? defaults?.startAttempts ?? 1 },
        ...(startMs ? { timeouts: { startMs, healthMs: startMs } } : {}),
        attributes: { "clnrm.package": svc.plugin.package, "clnrm.run": this.runId },
      });
      this.#lifecycles.set(svc.name, lifecycle);
      const deps = Object.fromEntries(svc.dependsOn.map((d) => [d, this.outputs.get(d) ?? {}]));
      const handle = await lifecycle.start({
        runId: this.runId,
        backend: this.#backend,
        network: this.#network,
        baseDir: this.#plan.baseDir,
        signal,
        dependencies: deps,
        services: new Map(svc.dependsOn.flatMap((d) => {
          const h = this.#lifecycles.get(d)?.handle;
          return h ? [[d, h] as const] : [];
        })),
        log: {
          progress: (message) => this.#emit({ type: "service:progress", test, service: svc.name, message }),
          warn: (message) => this.#emit({ type: "service:progress", test, service: svc.name, message: `warning: ${message}` }),
          debug: () => {},
        },
      });
      const ms = performance.now() - started;
      this.outputs.set(svc.name, handle.outputs);
      const completed = lifecycle.completed;
      this.results.set(svc.name, { ...this.results.get(svc.name)!, status: completed ? "completed" : "running", startMs: ms, outputs: handle.outputs });
      const sink = capabilityOf(svc.plugin.definition, "spanSink");
      this.#emit({
        type: "service:ready",
        test,
        service: svc.name,
        outputs: handle.outputs,
        durationMs: ms,
        notices: handle.notices ?? [],
        ...(completed ? { completed } : {}),
        ...(sink ? { spanSink: { otlpHttpEndpoint: sink.otlpHttpEndpoint(handle) } } : {}),
      });
    } catch (err) {
      const e = toCleanroomError(err, svc.name);
      this.results.set(svc.name, { ...this.results.get(svc.name)!, status: "failed", startMs: performance.now() - started, error: e.message });
      this.#emit({ type: "service:failed", test, service: svc.name, error: e });
      throw e;
    }
  }

  #createPlugin(svc: ServicePlan): ServicePlugin {
    const raw = interpolate(svc.raw, this.outputs, `services.${svc.name}`);
    const parsed = svc.plugin.definition.configSchema.safeParse(raw);
    if (!parsed.success) {
      const [issue] = describeZodIssues(parsed.error);
      throw new ValidationError(`services.${svc.name}.${formatPath(issue?.path ?? [])}: ${issue?.message} (after substituting references)`, {
        service: svc.name,
      });
    }
    return svc.plugin.definition.create(parsed.data, { service: svc.name, baseDir: this.#plan.baseDir });
  }

  /**
   * Stops every service once everything that depends on it has stopped (independent services in
   * parallel), then removes the network. Returns one line for each thing that could not be
   * removed (the network, today), for the report.
   */
  async stop(): Promise<string[]> {
    let clean = true;
    const stopped = new Map<string, Promise<void>>();
    const dependents = new Map<string, string[]>();
    for (const svc of this.#plan.services.values()) for (const d of svc.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), svc.name]);
    for (const name of this.#plan.waves.flat().reverse()) {
      const after = (dependents.get(name) ?? []).map((d) => stopped.get(d)!);
      stopped.set(
        name,
        Promise.all(after).then(() =>
          this.#lifecycles.get(name)?.stop().catch(() => {
            clean = false;
          }),
        ),
      );
    }
    await Promise.all(stopped.values());
    let networkError: unknown;
    await this.#network?.remove().catch((err: unknown) => {
      clean = false;
      networkError = err;
    });
    // After a failed start or stop, anything left with this run's label is swept. (A clean stop
    // released every container through the lifecycles, so the extra engine round trips are skipped.)
    if (!clean || [...this.#lifecycles.values()].some((l) => l.state !== "stopped")) {
      const swept = await this.#backend.sweep({ runId: this.runId }).catch(() => undefined);
      if (networkError && this.#network && !swept?.networks.includes(this.#network.name)) return [toCleanroomError(networkError).format()];
    }
    return [];
  }

  container(service: string) {
    return this.#lifecycles.get(service)?.handle?.primary;
  }

  /** The run's network, when it has one (several services). */
  get network(): NetworkHandle | undefined {
    return this.#network;
  }
}

/** From the service ready last, back through the dependency each one waited for last. */
function criticalPath(timing: ReadonlyMap<string, { startMs: number; readyMs: number; after?: string }>): CriticalPathEntry[] {
  let last: string | undefined;
  for (const [name, t] of timing) if (last === undefined || t.readyMs > timing.get(last)!.readyMs) last = name;
  const path: CriticalPathEntry[] = [];
  for (let name = last; name !== undefined; name = timing.get(name)!.after) {
    const t = timing.get(name)!;
    path.unshift({ service: name, startMs: t.startMs, readyMs: t.readyMs });
  }
  return path;
}

function interrupted(signal: AbortSignal): CleanroomError {
  const reason = signal.reason;
  return isCleanroomError(reason) ? reason : createError("CLNRM_ERR_INTERRUPTED", "run interrupted", { hint: String(reason ?? "") });
}

/** Runs a planned test: starts its services, runs its steps, and always tears down. */
export async function runTest(plan: TestPlan, options: RunOptions): Promise<TestResult> {
  const runId = options.runId ?? newRunId();
  const emit = options.onEvent ?? (() => {});
  const test = plan.name;
  const started = performance.now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const timeoutMs = plan.meta.timeout;
  const timer = timeoutMs
    ? setTimeout(() => controller.abort(createError("CLNRM_ERR_TEST_TIMEOUT", `test '${test}' exceeded its timeout of ${fmtMs(timeoutMs)}`, { timeoutMs })), timeoutMs)
    : undefined;

  return withSpan("clnrm.test", { "clnrm.test": test, "clnrm.file": plan.displayName, "clnrm.run": runId }, async (span) => {
    emit({ type: "test:start", test, runId });
    const services = new ServiceSet(plan, options.backend, runId, emit);
    const steps: StepResult[] = [];
    let error: CleanroomError | undefined;
    let failed = false;
    try {
      await services.start(controller.signal);
      for (const [i, step] of plan.steps.entries()) {
        if (controller.signal.aborted) throw interrupted(controller.signal);
        if (failed) {
          steps.push({ name: step.name, service: step.service, status: "skipped", exitCode: undefined, stdout: "", stderr: "", durationMs: 0, attempts: 0 });
          continue;
        }
        const resolved = interpolate({ ...step }, services.outputs, `steps[${i}]`);
        emit({ type: "step:start", test, step: step.name, service: step.service });
        const result = await withSpan("clnrm.step", { "clnrm.step": step.name, "clnrm.service": step.service ?? "(host)" }, async (stepSpan) => {
          const target = {
            container: step.service ? services.container(step.service) : undefined,
            cwd: plan.baseDir,
            backend: options.backend,
            runId,
            network: services.network,
          };
          // A one-shot service that completed has nothing to exec in: one line that says so.
          const done = step.service ? services.lifecycle(step.service)?.completed : undefined;
          const r: StepResult = done
            ? { name: step.name, service: step.service, status: "failed", exitCode: undefined, stdout: "", stderr: "", durationMs: 0, attempts: 0, failure: completedServiceStepFailure(step.service!, done.exitCode) }
            : await runStep(resolved, target, controller.signal);
          stepSpan.setAttribute("clnrm.outcome", r.status);
          stepSpan.setAttribute("clnrm.exit_code", r.exitCode ?? -1);
          if (r.status === "failed") markSpanFailed(stepSpan, r.failure ?? "failed");
          return r;
        });
        if (controller.signal.aborted) throw interrupted(controller.signal);
        steps.push(result);
        if (result.serviceGone) {
          // The service died during the steps (exited, OOM-killed, removed): it failed, whatever its start said.
          const gone = result.serviceGone;
          const prev = services.results.get(gone.service);
          if (prev) services.results.set(gone.service, { ...prev, status: "failed", error: gone.message.split("\n")[0]! });
        }
        emit({ type: "step:end", test, result });
        if (result.status === "failed" && !step.continue_on_failure) failed = true;
      }
      await options.beforeTeardown?.(services);
      if (plan.spans.length > 0 && !failed) {
        for (const result of await checkSpans(plan, services, controller.signal)) {
          steps.push(result);
          emit({ type: "step:end", test, result });
        }
      }
    } catch (err) {
      error = toCleanroomError(err);
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    const teardownStart = performance.now();
    const left = await services.stop();
    const teardownMs = performance.now() - teardownStart;
    emit({ type: "teardown", test, durationMs: teardownMs, ...(left.length ? { left } : {}) });

    const status = error ? "error" : steps.some((s) => s.status === "failed") ? "failed" : "passed";
    const result: TestResult = {
      file: plan.displayName,
      name: test,
      runId,
      status,
      durationMs: performance.now() - started,
      teardownMs,
      ...(left.length ? { leftBehind: left } : {}),
      services: [...services.results.values()],
      steps,
      ...(error
        ? { error: { code: error.code, message: error.format(), ...(error.service ? { service: error.service } : {}), ...(error.environment ? { environment: true as const } : {}) } }
        : {}),
    };
    span.setAttribute("clnrm.outcome", status);
    if (status !== "passed") markSpanFailed(span, error?.message ?? "a step failed");
    emit({ type: "test:end", test, result });
    return result;
  });
}

/** Checks `[[expect.spans]]` against what each collector received; each expectation reports as a step. */
async function checkSpans(plan: TestPlan, services: ServiceSet, signal: AbortSignal): Promise<StepResult[]> {
  const sinks = new Map<string, SpanSink>();
  for (const s of plan.services.values()) {
    const sink = capabilityOf(s.plugin.definition, "spanSink");
    if (sink) sinks.set(s.name, sink);
  }
  const collectors = [...sinks.keys()];
  const reader = async (collector?: string) => {
    const name = collector ?? collectors[0]!;
    const sink = sinks.get(name);
    const handle = services.lifecycle(name)?.handle;
    if (!sink || !handle) throw new ValidationError(`service '${name}' cannot report the spans it collected`, { service: name });
    return sink.readSpans(handle);
  };
  const started = performance.now();
  const results = await checkSpanExpectations(plan.spans, reader, { signal });
  const durationMs = performance.now() - started;
  return results.map((r) => ({
    name: `expect span ${describeExpectation(r.expectation)}`,
    service: r.expectation.collector ?? collectors[0],
    status: r.passed ? "passed" : "failed",
    exitCode: undefined,
    stdout: "",
    stderr: "",
    durationMs,
    attempts: 1,
    ...(r.failure ? { failure: r.failure } : {}),
  }));
}

function describeExpectation(e: SpanExpectation): string {
  const name = e.name !== undefined ? `"${e.name}"` : e.name_regex ? `/${e.name_regex.source}/` : "(any)";
  return e.parent ? `${name} under "${e.parent}"` : name;
}
