import { createHash } from "node:crypto";
import { type ContainerSpec, ContainerError, type PluginLogger, type RunningContainer, runOptions, type StartContext, ValidationError } from "@clnrm/plugin-api";
import { describe, type Fault, type FaultEnv, faultsFor, type LatencyMode, probeLatencyMode, type Target } from "./faults.js";
import type { ChaosConfig } from "./schema.js";

export type { LatencyMode } from "./faults.js";

/**
 * Runs one chaos service: picks the targets, prepares one fault object per configured kind on each
 * (see FAULT_KINDS in faults.ts), and applies / removes them on the schedule. The engine knows no
 * fault kind: it iterates over the faults.
 */
export class ChaosEngine {
  readonly targets: Target[] = [];
  /** Every target's faults, target by target, each target's in the order of FAULT_KINDS. */
  readonly faults: Fault[] = [];
  readonly containers: RunningContainer[] = [];
  latencyMode: LatencyMode = "none";
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #queue: Promise<void> = Promise.resolve();
  #active = false;
  #stopped = false;
  #windows = 0;

  /** Names our iptables chains: derived from the run and service, at most 6 characters. */
  readonly tag: string;

  constructor(
    readonly config: ChaosConfig,
    public log: PluginLogger,
    id: string,
  ) {
    this.tag = createHash("sha256").update(id).digest("hex").slice(0, 6);
  }

  /** Number of fault windows applied so far. */
  get windows(): number {
    return this.#windows;
  }

  get active(): boolean {
    return this.#active;
  }

  async prepare(ctx: StartContext): Promise<void> {
    const c = this.config;
    const names = c.targets.length ? c.targets : [...ctx.services.keys()];
    for (const name of names) {
      const h = ctx.services.get(name);
      if (!h) {
        if (c.targets.length) throw new ValidationError(`target '${name}' is not a started service`, { hint: "name a service of this test in targets" });
        continue;
      }
      if (!h.primary) {
        if (c.targets.length) throw new ValidationError(`target '${name}' has no container to act on`, { hint: "target a container service" });
        this.log.warn(`skipping '${name}': it has no container`);
        continue;
      }
      // A one-shot service that has completed has no network namespace left to act on.
      const state = await h.primary.state();
      if (!state.running) {
        if (c.targets.length) {
          throw new ContainerError(`chaos: target '${name}' is not running (${state.status}${state.exitCode !== undefined ? `, exit code ${state.exitCode}` : ""})`, {
            hint: "target a service that keeps running during the steps",
          });
        }
        this.log.warn(`skipping '${name}': it is not running (${state.status})`);
        continue;
      }
      this.targets.push({ name, container: h.primary });
    }
    if (this.targets.length === 0) {
      this.log.warn("no target service: nothing to do");
      return;
    }
    const partitionIps = c.partition_from.map((name) => {
      const ip = ctx.services.get(name)?.primary?.networkIp;
      if (!ip) {
        throw new ValidationError(`partition_from: service '${name}' has no address on the run network`, {
          hint: "name a started container service (with no targets, every non-chaos service is started first)",
        });
      }
      return ip;
    });

    const env: FaultEnv = {
      config: c,
      log: this.log,
      tag: this.tag,
      partitionIps,
      run: async (spec: ContainerSpec) => {
        const { network: _none, ...options } = runOptions(ctx, { startupTimeoutMs: Math.min(ctx.startupTimeoutMs, 120_000) });
        const container = await ctx.backend.run(spec, options);
        this.containers.push(container);
        return container;
      },
      // Whether netem works is the host kernel's answer: probed once, from the first target's sidecar.
      latencyMode: async (net) => {
        if (this.latencyMode === "none") this.latencyMode = await probeLatencyMode(c.mode, net);
        return this.latencyMode;
      },
    };
    for (const t of this.targets) {
      for (const fault of faultsFor(c, t)) {
        this.faults.push(fault);
        await fault.prepare(env);
      }
    }
  }

  /** Schedules the fault windows. A window at start_after = 0 is applied before this resolves. */
  async schedule(): Promise<void> {
    const c = this.config;
    if (this.targets.length === 0) return;
    const windows = c.duration === undefined ? 1 : c.repeat;
    for (let i = 0; i < windows; i++) {
      const at = c.start_after + (c.duration === undefined ? 0 : i * (c.duration + c.interval));
      if (at === 0) await this.#enqueue(() => this.apply());
      else this.#timer(at, () => this.apply());
      if (c.duration !== undefined) this.#timer(at + c.duration, () => this.remove());
    }
  }

  #timer(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#enqueue(fn).catch((err: unknown) => this.log.warn(`${err instanceof Error ? err.message : String(err)}`));
    }, ms);
    t.unref?.();
    this.#timers.add(t);
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const p = this.#queue.then(() => (this.#stopped ? undefined : fn()));
    this.#queue = p.catch(() => {});
    return p;
  }

  /** Applies every fault to its target. */
  async apply(): Promise<void> {
    if (this.#active) return;
    this.#active = true;
    this.#windows++;
    for (const fault of this.faults) await fault.apply();
    this.log.progress(`faults on ${this.targets.map((t) => `'${t.name}'`).join(", ")}: ${describe(this.config, this.latencyMode)}`);
  }

  /** Removes every fault and checks that it is gone. Idempotent. */
  async remove(): Promise<void> {
    const problems: string[] = [];
    for (const fault of this.faults) {
      await fault.remove();
      const left = await fault.verify();
      if (left) problems.push(left);
    }
    if (!this.#active) {
      if (problems.length) throw new ContainerError(`chaos: recovery incomplete: ${problems.join(", ")}`);
      return;
    }
    this.#active = false;
    if (problems.length) throw new ContainerError(`chaos: recovery incomplete: ${problems.join(", ")}`, { hint: "the target keeps the fault until it is removed" });
    this.log.progress(`recovered ${this.targets.map((t) => `'${t.name}'`).join(", ")} (rules, qdiscs and stress verified gone)`);
  }

  /** Cancels the schedule, removes the faults, removes the sidecars. Idempotent. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#stopped = true;
    await this.#queue;
    let failure: unknown;
    try {
      await this.remove();
    } catch (err) {
      failure = err;
    }
    await Promise.all(this.containers.map((c) => c.remove()));
    if (failure) throw failure;
  }
}
