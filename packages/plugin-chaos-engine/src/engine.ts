import { createHash } from "node:crypto";
import { type ContainerSpec, ContainerError, type PluginLogger, type RunningContainer, runOptions, type StartContext, ValidationError } from "@clnrm/core";
import {
  applyNetworkScript,
  LISTEN_PORTS_SCRIPT,
  NETEM_PROBE,
  type NetworkPlan,
  parseListenPorts,
  PROXY_UID,
  probability,
  removeNetworkScript,
  STRESS_ALIVE_SCRIPT,
  type StressPlan,
  stressStartScript,
  stressStopScript,
  verifyNetworkScript,
} from "./commands.js";
import { PROXY_READY, PROXY_SCRIPT } from "./proxy.js";
import { type ChaosConfig, hasNetworkFault, hasStress } from "./schema.js";

interface Target {
  name: string;
  container: RunningContainer;
  /** Network sidecar (NET_ADMIN, shares the target's netns). */
  net?: RunningContainer;
  proxy?: RunningContainer;
  /** Where stress-ng runs: the target itself or a stress sidecar. */
  stressIn?: RunningContainer;
  stressPid?: number;
  plan?: NetworkPlan;
  paused?: boolean;
  killed?: boolean;
}

export type LatencyMode = "netem" | "proxy" | "none";

const SIDE_TIMEOUT = 30_000;

export class ChaosEngine {
  readonly targets: Target[] = [];
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

    const run = async (spec: ContainerSpec) => {
      const { network: _none, ...options } = runOptions(ctx, { startupTimeoutMs: Math.min(ctx.startupTimeoutMs, 120_000) });
      const container = await ctx.backend.run(spec, options);
      this.containers.push(container);
      return container;
    };

    for (const t of this.targets) {
      const labels = { "clnrm.chaos.target": t.name };
      if (hasNetworkFault(c)) {
        t.net = await run({ image: c.sidecar_image, networkOf: t.container.id, capAdd: ["NET_ADMIN"], keepAlive: true, labels: { ...labels, "clnrm.chaos.role": "net" } });
        const plan: NetworkPlan = {
          tag: this.tag,
          iface: c.interface,
          lossDirection: c.loss_direction,
          blockPorts: c.block_ports,
          blockAction: c.block_action,
          partitionIps,
          redirects: [],
        };
        if (c.packet_loss_percent !== undefined) plan.lossProbability = Number(probability(c.packet_loss_percent));
        if (c.bandwidth_kbps !== undefined) plan.bandwidthKbps = c.bandwidth_kbps;
        if (c.latency_ms !== undefined) {
          // Whether netem works is the host kernel's answer: probe once, from the first target's sidecar.
          const mode = this.latencyMode === "none" ? await this.#latencyMode(t.net) : this.latencyMode;
          this.latencyMode = mode;
          if (mode === "netem") plan.netem = { latencyMs: c.latency_ms, jitterMs: c.jitter_ms };
          else {
            const ports = c.ports ?? (await this.#ports(t));
            if (ports.length === 0 && c.targets.length) {
              throw new ValidationError(`chaos: target '${t.name}' has no port to delay`, { hint: "set ports = [...] for the latency proxy" });
            }
            if (ports.length === 0) {
              // Acting on every service (no targets), one without a TCP port (a worker) has nothing for the proxy to delay.
              this.log.warn(`no latency on '${t.name}': it listens on no TCP port for the proxy to delay (set ports = [...], or name it in targets to make this an error)`);
            } else {
              const routes = ports.map((p, i) => ({ listen: c.proxy_port_base + i, target: p }));
              const clash = routes.find((r) => ports.includes(r.listen));
              if (clash) throw new ValidationError(`chaos: proxy port ${clash.listen} is one of the target's ports`, { hint: "set proxy_port_base to a free range" });
              t.proxy = await run({
                image: c.proxy_image,
                networkOf: t.container.id,
                // Its own uid: the loopback rules tell the proxy's upstream connection apart by it.
                user: `${PROXY_UID}:${PROXY_UID}`,
                entrypoint: ["node"],
                command: ["-e", PROXY_SCRIPT],
                env: { CLNRM_CHAOS_PROXY: JSON.stringify({ routes, latency: c.latency_ms, jitter: c.jitter_ms }) },
                health: { kind: "log", pattern: PROXY_READY },
                labels: { ...labels, "clnrm.chaos.role": "proxy" },
              });
              plan.redirects = routes.map((r) => ({ port: r.target, to: r.listen }));
              plan.proxyUid = PROXY_UID;
            }
          }
          if (plan.netem || plan.redirects.length) {
            this.log.progress(`latency on '${t.name}' through ${mode}${mode === "proxy" ? ` (ports ${plan.redirects.map((r) => r.port).join(", ")})` : ""}`);
          }
        }
        t.plan = plan;
      }
      if (hasStress(c)) t.stressIn = await this.#stressRunner(t, run, labels);
    }
  }

  async #latencyMode(net: RunningContainer): Promise<"netem" | "proxy"> {
    const wanted = this.config.mode;
    if (wanted === "proxy") return "proxy";
    const r = await net.exec(["sh", "-c", NETEM_PROBE], { timeoutMs: SIDE_TIMEOUT });
    if (r.exitCode === 0) return "netem";
    if (wanted === "netem") {
      throw new ContainerError("chaos: mode = \"netem\" but this kernel has no sch_netem (tc netem fails)", {
        hint: "use mode = \"proxy\" or \"auto\", or load the sch_netem kernel module on the Docker host",
      });
    }
    return "proxy";
  }

  async #ports(t: Target): Promise<number[]> {
    const published = Object.keys(t.container.ports).map(Number);
    if (published.length) return published;
    // A target started without a health check may not listen yet: look again for a few seconds.
    for (let i = 0; ; i++) {
      const r = await t.net!.exec(["sh", "-c", LISTEN_PORTS_SCRIPT], { timeoutMs: SIDE_TIMEOUT });
      const ports = parseListenPorts(r.stdout);
      if (ports.length || i >= 20) return ports;
      await new Promise((done) => setTimeout(done, 250));
    }
  }

  async #stressRunner(t: Target, run: (s: ContainerSpec) => Promise<RunningContainer>, labels: Record<string, string>): Promise<RunningContainer> {
    const c = this.config;
    if (c.stress_mode !== "sidecar") {
      const has = await t.container.exec(["sh", "-c", "command -v stress-ng"], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
      if (has?.exitCode === 0) {
        this.log.progress(`stress-ng runs inside '${t.name}' (its cgroup, its limits)`);
        return t.container;
      }
      if (c.stress_mode === "exec") {
        throw new ContainerError(`chaos: target '${t.name}' has no stress-ng`, { hint: "install stress-ng in the target image, or set stress_mode = \"sidecar\" with stress_image" });
      }
    }
    if (!c.stress_image) {
      throw new ContainerError(`chaos: target '${t.name}' has no stress-ng and no stress_image is set`, {
        hint: "install stress-ng in the target image, or set stress_image to an image with stress-ng (it then loads the host, not the target's cgroup)",
      });
    }
    this.log.progress(`stress-ng runs in a sidecar next to '${t.name}' (host load, not counted in the target's cgroup)`);
    return run({ image: c.stress_image, networkOf: t.container.id, keepAlive: true, labels: { ...labels, "clnrm.chaos.role": "stress" } });
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

  /** Applies every configured fault to every target. */
  async apply(): Promise<void> {
    if (this.#active) return;
    this.#active = true;
    this.#windows++;
    const c = this.config;
    for (const t of this.targets) {
      if (t.plan && t.net) {
        const r = await t.net.exec(["sh", "-c", applyNetworkScript(t.plan)], { timeoutMs: SIDE_TIMEOUT });
        if (r.exitCode !== 0) {
          throw new ContainerError(`chaos: cannot apply network faults to '${t.name}': ${lastLine(r.stderr || r.stdout)}`, {
            hint: "the sidecar image needs iptables and tc, and the kernel xt_statistic / sch_tbf for loss and bandwidth (xt_owner and xt_REDIRECT for the latency proxy)",
          });
        }
      }
      if (t.stressIn) {
        const plan: StressPlan = {};
        if (c.cpu) plan.cpu = { percent: c.cpu.stress_percent, workers: c.cpu.workers };
        if (c.memory) plan.memoryMb = c.memory.stress_mb;
        if (c.io) plan.ioWorkers = c.io.workers;
        if (c.duration !== undefined) plan.timeoutMs = c.duration + 5_000;
        const r = await t.stressIn.exec(["sh", "-c", stressStartScript(plan)], { timeoutMs: SIDE_TIMEOUT });
        const pid = Number(r.stdout.trim());
        if (r.exitCode !== 0 || !Number.isInteger(pid) || pid <= 0) {
          throw new ContainerError(`chaos: cannot start stress-ng for '${t.name}': ${lastLine(r.stderr || r.stdout)}`, { hint: "check that stress-ng runs in that image" });
        }
        t.stressPid = pid;
      }
      if (c.pause) {
        await t.container.pause();
        t.paused = true;
      }
      if (c.kill) {
        await t.container.kill("SIGKILL");
        t.killed = true;
        if (c.restart && c.duration === undefined) {
          await t.container.restart();
          t.killed = false;
        }
      }
    }
    this.log.progress(`faults on ${this.targets.map((t) => `'${t.name}'`).join(", ")}: ${describe(c, this.latencyMode)}`);
  }

  /** Removes every fault and checks that it is gone. Idempotent. */
  async remove(): Promise<void> {
    const problems: string[] = [];
    for (const t of this.targets) {
      if (t.net && t.plan) {
        const qdisc = usesQdisc(t.plan);
        await t.net.exec(["sh", "-c", removeNetworkScript(t.plan.tag, t.plan.iface, qdisc)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
        const v = await t.net.exec(["sh", "-c", verifyNetworkScript(t.plan.tag, t.plan.iface, qdisc)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
        if (v?.stdout.trim()) problems.push(`'${t.name}' still has: ${v.stdout.trim().replace(/\s*\n\s*/g, "; ")}`);
      }
      if (t.stressIn && t.stressPid !== undefined) {
        await t.stressIn.exec(["sh", "-c", stressStopScript(t.stressPid)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
        const v = await t.stressIn.exec(["sh", "-c", STRESS_ALIVE_SCRIPT], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
        if (v?.stdout.trim()) problems.push(`'${t.name}' still runs stress-ng (pids ${v.stdout.trim().replace(/\s+/g, " ")})`);
        else t.stressPid = undefined;
      }
      if (t.paused) {
        await t.container.unpause();
        t.paused = false;
      }
      if (t.killed && this.config.restart) {
        await t.container.restart();
        t.killed = false;
      }
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

function usesQdisc(p: NetworkPlan): boolean {
  return p.netem !== undefined || p.bandwidthKbps !== undefined;
}

function lastLine(s: string): string {
  const lines = s.trim().split("\n");
  return lines[lines.length - 1] || "no output";
}

export function describe(c: ChaosConfig, latencyMode: LatencyMode): string {
  const parts: string[] = [];
  if (c.packet_loss_percent !== undefined) parts.push(`${c.packet_loss_percent}% packet loss (${c.loss_direction})`);
  if (c.latency_ms !== undefined) parts.push(`${c.latency_ms}ms${c.jitter_ms ? ` ±${c.jitter_ms}ms` : ""} latency (${latencyMode})`);
  if (c.bandwidth_kbps !== undefined) parts.push(`${c.bandwidth_kbps} kbit/s bandwidth`);
  if (c.block_ports.length) parts.push(`ports ${c.block_ports.join(", ")} blocked`);
  if (c.partition_from.length) parts.push(`cut off from ${c.partition_from.join(", ")}`);
  if (c.cpu) parts.push(`cpu ${c.cpu.stress_percent}% x ${c.cpu.workers || "all"}`);
  if (c.memory) parts.push(`memory ${c.memory.stress_mb} MiB`);
  if (c.io) parts.push(`io x ${c.io.workers}`);
  if (c.pause) parts.push("paused");
  if (c.kill) parts.push(c.restart ? "killed and restarted" : "killed");
  return parts.join(", ");
}
