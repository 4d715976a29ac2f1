/** Test helpers for plugin packages (`@clnrm/plugin-kit/testing`); not for plugin runtime code. */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type {
  ContainerBackend,
  PluginDefinition,
  PluginLogger,
  RunningContainer,
  ServiceHandle,
  StartContext,
} from "@clnrm/plugin-api";
import { ServiceLifecycle } from "@clnrm/core";

/** A unique run id: `<prefix>-<8 hex>`. */
export function newRunId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A PluginLogger that records progress lines and warnings. */
export interface Captured extends PluginLogger {
  lines: string[];
  warnings: string[];
}

export function captureLog(): Captured {
  const lines: string[] = [];
  const warnings: string[] = [];
  return { lines, warnings, progress: (m) => lines.push(m), warn: (m) => warnings.push(m), debug() {} };
}

/** Starts one service of `definition` through the real lifecycle (a failed start releases its containers). */
export async function startService(
  definition: PluginDefinition,
  rawConfig: unknown,
  opts: { backend: ContainerBackend; runId: string; service?: string; timeoutMs?: number; log?: PluginLogger; withNetwork?: boolean },
): Promise<{ lc: ServiceLifecycle; handle: ServiceHandle }> {
  const { backend } = opts;
  const service = opts.service ?? "llm";
  const config = definition.configSchema.parse(rawConfig);
  const plugin = definition.create(config, { service, baseDir: process.cwd() });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const lc = new ServiceLifecycle({ service, pluginType: definition.type, plugin, timeouts: { startMs: timeoutMs, healthMs: timeoutMs } });
  const network = opts.withNetwork ? await backend.createNetwork(opts.runId) : undefined;
  const handle = await lc.start({
    runId: opts.runId,
    backend,
    network,
    baseDir: process.cwd(),
    log: opts.log ?? captureLog(),
    dependencies: {},
    services: new Map(),
  });
  return { lc, handle };
}

/** Ids of Docker containers (any state) that still carry the run's label (uses the docker CLI). */
export function leftovers(runId: string): string[] {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
}

/** An in-memory RunningContainer for unit tests: `running()` decides its state, `log` is its output. */
export function fakeContainer(opts: { running?: () => boolean; log?: string; exitCode?: number } = {}): RunningContainer {
  const running = opts.running ?? (() => true);
  const log = opts.log ?? "";
  const fail = async () => {
    throw new Error("not supported by fakeContainer");
  };
  return {
    id: "fake",
    name: "fake",
    image: "fake",
    host: "localhost",
    networkIp: undefined,
    ports: {},
    mappedPort: () => 1,
    exec: async () => ({ exitCode: 0, stdout: "", stderr: "", durationMs: 0 }),
    logs: async ({ tail } = {}) => log.split("\n").slice(-(tail ?? 1000)).join("\n"),
    state: async () => (running() ? { running: true, status: "running" } : { running: false, exitCode: opts.exitCode ?? 1, status: "exited" }),
    pause: fail,
    unpause: fail,
    kill: fail,
    restart: fail,
    remove: async () => {},
    probe: async () => running(),
  };
}

/** A StartContext for unit tests; `backend` defaults to one whose every call fails. */
export function fakeStartContext(overrides: Partial<StartContext> = {}): StartContext {
  const unsupported = async (): Promise<never> => {
    throw new Error("not supported by fakeStartContext's backend");
  };
  return {
    service: "svc",
    runId: "run",
    backend: { name: "fake", ping: unsupported, createNetwork: unsupported, run: unsupported, sweep: unsupported },
    network: undefined,
    baseDir: process.cwd(),
    signal: new AbortController().signal,
    log: captureLog(),
    startupTimeoutMs: 60_000,
    dependencies: {},
    services: new Map(),
    ...overrides,
  };
}
