import type { ContainerBackend, ExecOptions, ExecResult, Outputs, RunningContainer } from "@clnrm/core";
import { ValidationError } from "@clnrm/core";
import { type PluginResolver, planTest } from "./plan.js";
import { type RunEvent, ServiceSet, newRunId } from "./run.js";

export interface StartServicesOptions {
  /** The container engine; Docker (`@clnrm/docker`) by default. */
  backend?: ContainerBackend;
  resolver?: PluginResolver;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
}

/**
 * The services of a test file, started. Use it from vitest (or any test runner) with `await using`,
 * so that teardown runs however the test ends:
 *
 *     await using env = await startServices("tests/api.clnrm.toml");
 *     const res = await fetch(`${env.output("api", "url")}/health`);
 */
export class RunningServices implements AsyncDisposable {
  readonly runId: string;
  readonly #set: ServiceSet;
  #stopped: Promise<void> | undefined;

  constructor(set: ServiceSet) {
    this.#set = set;
    this.runId = set.runId;
  }

  /** Every service's outputs, by service name. */
  get outputs(): ReadonlyMap<string, Outputs> {
    return this.#set.outputs;
  }

  /** One output of one service (`host`, `port`, `url`, or a plugin-specific one). */
  output(service: string, key: string): string {
    const outputs = this.#set.outputs.get(service);
    if (!outputs) throw new ValidationError(`no running service named '${service}' (services: ${[...this.#set.outputs.keys()].join(", ")})`);
    const value = outputs[key];
    if (value === undefined) throw new ValidationError(`service '${service}' has no output '${key}' (outputs: ${Object.keys(outputs).join(", ")})`);
    return String(value);
  }

  /** The primary container of a service. */
  container(service: string): RunningContainer {
    const c = this.#set.container(service);
    if (!c) throw new ValidationError(`service '${service}' has no container to exec in`);
    return c;
  }

  exec(service: string, command: string[], options?: ExecOptions): Promise<ExecResult> {
    return this.container(service).exec(command, options);
  }

  /** Stops every service and removes the network. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#set.stop().then(() => {});
    return this.#stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Starts the services of a test file (its steps are not run). A failed start tears down what started. */
export async function startServices(file: string, options: StartServicesOptions = {}): Promise<RunningServices> {
  const plan = await planTest(file, options.resolver);
  const backend = options.backend ?? (await import("@clnrm/docker")).dockerBackend();
  await backend.ping();
  const set = new ServiceSet(plan, backend, newRunId(), options.onEvent);
  try {
    await set.start(options.signal ?? new AbortController().signal);
  } catch (err) {
    await set.stop();
    throw err;
  }
  return new RunningServices(set);
}
