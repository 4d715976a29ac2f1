/**
 * An in-memory ContainerBackend for the lifecycle tests.
 *
 * This is the one legitimate place for a fake in clnrm's tests: ServiceLifecycle and ResourceScope
 * are state-machine, retry, timeout and cleanup logic that never look inside a container, so these
 * tests check that logic (which containers were created, which were removed, and when) rather than
 * Docker. Everything that really talks to Docker is tested against Docker in @clnrm/docker.
 */
import type { HealthStatus } from "../src/health.js";
import type { PluginLogger, ServiceHandle, ServicePlugin, StartContext, StopContext } from "../src/plugin.js";
import type {
  ContainerBackend,
  ContainerSpec,
  ContainerState,
  ExecResult,
  NetworkHandle,
  RunContainerOptions,
  RunningContainer,
  SweepReport,
} from "../src/spec.js";

export class FakeContainer implements RunningContainer {
  readonly host = "127.0.0.1";
  readonly networkIp = undefined;
  readonly ports: Readonly<Record<number, number>> = {};
  /** Every remove() call, in order. */
  readonly removeCalls: { timeoutMs?: number }[] = [];
  removed = false;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly image: string,
    readonly service: string,
  ) {}

  mappedPort(containerPort: number): number {
    const p = this.ports[containerPort];
    if (p === undefined) throw new Error(`port ${containerPort} is not mapped`);
    return p;
  }
  async exec(): Promise<ExecResult> {
    return { exitCode: 0, stdout: "", stderr: "", durationMs: 0 };
  }
  async logs(): Promise<string> {
    return "";
  }
  async state(): Promise<ContainerState> {
    return { running: !this.removed, status: this.removed ? "removed" : "running" };
  }
  async remove(options: { timeoutMs?: number } = {}): Promise<void> {
    this.removeCalls.push(options);
    this.removed = true;
  }
  async probe(): Promise<boolean> {
    return !this.removed;
  }
  async pause(): Promise<void> {}
  async unpause(): Promise<void> {}
  async kill(): Promise<void> {}
  async restart(): Promise<void> {}
}

export class FakeBackend implements ContainerBackend {
  readonly name = "fake";
  /** Every container ever created, in order. */
  readonly containers: FakeContainer[] = [];
  #next = 0;

  async ping(): Promise<void> {}

  async createNetwork(runId: string): Promise<NetworkHandle> {
    return { id: `net-${runId}`, name: `clnrm-${runId}`, remove: async () => {} };
  }

  async run(spec: ContainerSpec, options: RunContainerOptions): Promise<RunningContainer> {
    // Resolve on a later tick, like a real engine.
    await new Promise((r) => setTimeout(r, 1));
    const n = ++this.#next;
    const c = new FakeContainer(`c${n}`, `${options.service}-${n}`, spec.image, options.service);
    this.containers.push(c);
    return c;
  }

  async sweep(): Promise<SweepReport> {
    return { containers: [], networks: [], volumes: [] };
  }

  /** Containers created and not removed. */
  live(): FakeContainer[] {
    return this.containers.filter((c) => !c.removed);
  }
}

export interface FakePluginHooks {
  start?: (ctx: StartContext, call: number) => Promise<ServiceHandle>;
  healthCheck?: (handle: ServiceHandle, call: number) => Promise<HealthStatus>;
  stop?: (handle: ServiceHandle, ctx: StopContext) => Promise<void>;
}

/** A plugin that runs one container by default, with overridable hooks and call records. */
export class FakePlugin implements ServicePlugin {
  readonly starts: StartContext[] = [];
  readonly stops: ServiceHandle[] = [];
  healthChecks = 0;
  readonly #hooks: FakePluginHooks;

  constructor(hooks: FakePluginHooks = {}) {
    this.#hooks = hooks;
  }

  start(ctx: StartContext): Promise<ServiceHandle> {
    this.starts.push(ctx);
    if (this.#hooks.start) return this.#hooks.start(ctx, this.starts.length);
    return runOne(ctx);
  }

  async healthCheck(handle: ServiceHandle): Promise<HealthStatus> {
    this.healthChecks++;
    if (this.#hooks.healthCheck) return this.#hooks.healthCheck(handle, this.healthChecks);
    return { status: "healthy" };
  }

  async stop(handle: ServiceHandle, ctx: StopContext): Promise<void> {
    this.stops.push(handle);
    if (this.#hooks.stop) return this.#hooks.stop(handle, ctx);
    for (const c of handle.containers) await c.remove();
  }
}

/** Starts one container through the context's backend and returns a handle for it. */
export async function runOne(ctx: StartContext, image = "alpine:3"): Promise<ServiceHandle> {
  const c = await ctx.backend.run({ image }, { runId: ctx.runId, service: ctx.service, signal: ctx.signal });
  return { service: ctx.service, primary: c, containers: [c], outputs: { host: c.host, id: c.id } };
}

export function recordingLog(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    progress: (m) => lines.push(`progress: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
  };
}

export function startContext(backend: ContainerBackend, extra: { signal?: AbortSignal; log?: PluginLogger } = {}) {
  return {
    runId: "run1",
    backend,
    network: undefined,
    baseDir: "/tmp",
    log: extra.log ?? recordingLog(),
    dependencies: {},
    services: new Map(),
    ...(extra.signal ? { signal: extra.signal } : {}),
  };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
