import { type ContainerSpec, ContainerError, type PluginLogger, type RunningContainer, ValidationError } from "@clnrm/plugin-api";
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
import type { ChaosConfig } from "./schema.js";

export type LatencyMode = "netem" | "proxy" | "none";

/** A service the engine acts on. */
export interface Target {
  readonly name: string;
  readonly container: RunningContainer;
}

/** What a fault may use while it prepares: shared by every fault of one chaos service. */
export interface FaultEnv {
  readonly config: ChaosConfig;
  readonly log: PluginLogger;
  /** Names our iptables chains. */
  readonly tag: string;
  /** Addresses of the `partition_from` services on the run network. */
  readonly partitionIps: readonly string[];
  /** Starts a sidecar (removed with the chaos service). */
  run(spec: ContainerSpec): Promise<RunningContainer>;
  /** How latency is added: probed once (from the first target that needs it) and shared. */
  latencyMode(net: RunningContainer): Promise<"netem" | "proxy">;
}

/**
 * One kind of fault on one target. The engine calls `prepare` once, then `apply` and `remove`
 * once per window (each window's `remove` is followed by `verify`), in the order of FAULT_KINDS.
 */
export interface Fault {
  readonly kind: string;
  readonly target: Target;
  /** Starts what the fault needs (sidecars, probes); applies nothing. */
  prepare(env: FaultEnv): Promise<void>;
  apply(): Promise<void>;
  /** Undoes `apply`; never throws for what is already gone. */
  remove(): Promise<void>;
  /** What is left of the fault after `remove` (undefined: nothing). */
  verify(): Promise<string | undefined>;
  /** The fault in words, for the log. */
  describe(): string;
}

/** A kind of fault: whether a config asks for it, and a fault of it on one target. */
export interface FaultKind {
  readonly kind: string;
  wanted(config: ChaosConfig): boolean;
  create(config: ChaosConfig, target: Target): Fault;
  /** The configured fault in words (`latencyMode` as probed, "none" before). */
  describe(config: ChaosConfig, latencyMode: LatencyMode): string;
}

const SIDE_TIMEOUT = 30_000;

function lastLine(s: string): string {
  const lines = s.trim().split("\n");
  return lines[lines.length - 1] || "no output";
}

/** What a network kind may use while it adds its part to the plan. */
interface NetworkPartContext {
  readonly config: ChaosConfig;
  readonly env: FaultEnv;
  readonly target: Target;
  /** The network sidecar, in the target's netns. */
  readonly net: RunningContainer;
  /** How latency is added to this target (set by the latency kind). */
  mode: LatencyMode;
}

/**
 * One kind of network fault (packet loss, latency, ...): its part of the network plan, which
 * `applyNetworkScript` turns into one iptables/tc program. Adding a kind is an entry in
 * NETWORK_KINDS and its lines in that script.
 */
export interface NetworkKind {
  readonly kind: string;
  wanted(c: ChaosConfig): boolean;
  /** Adds this kind to the plan; may start what it needs (the latency proxy). */
  plan(p: NetworkPlan, ctx: NetworkPartContext): Promise<void> | void;
  describe(c: ChaosConfig, mode: LatencyMode): string;
}

const PACKET_LOSS: NetworkKind = {
  kind: "packet_loss",
  wanted: (c) => c.packet_loss_percent !== undefined,
  plan: (p, { config: c }) => {
    p.lossProbability = Number(probability(c.packet_loss_percent!));
  },
  describe: (c) => `${c.packet_loss_percent}% packet loss (${c.loss_direction})`,
};

const LATENCY: NetworkKind = {
  kind: "latency",
  wanted: (c) => c.latency_ms !== undefined,
  async plan(p, ctx) {
    const c = ctx.config;
    const mode = await ctx.env.latencyMode(ctx.net);
    ctx.mode = mode;
    if (mode === "netem") p.netem = { latencyMs: c.latency_ms!, jitterMs: c.jitter_ms };
    else await latencyProxy(p, ctx);
    if (p.netem || p.redirects.length) {
      ctx.env.log.progress(`latency on '${ctx.target.name}' through ${mode}${mode === "proxy" ? ` (ports ${p.redirects.map((r) => r.port).join(", ")})` : ""}`);
    }
  },
  describe: (c, mode) => `${c.latency_ms}ms${c.jitter_ms ? ` ±${c.jitter_ms}ms` : ""} latency (${mode})`,
};

const BANDWIDTH: NetworkKind = {
  kind: "bandwidth",
  wanted: (c) => c.bandwidth_kbps !== undefined,
  plan: (p, { config: c }) => {
    p.bandwidthKbps = c.bandwidth_kbps!;
  },
  describe: (c) => `${c.bandwidth_kbps} kbit/s bandwidth`,
};

const BLOCK_PORTS: NetworkKind = {
  kind: "block_ports",
  wanted: (c) => c.block_ports.length > 0,
  plan: (p, { config: c }) => {
    p.blockPorts = c.block_ports;
  },
  describe: (c) => `ports ${c.block_ports.join(", ")} blocked`,
};

const PARTITION: NetworkKind = {
  kind: "partition",
  wanted: (c) => c.partition_from.length > 0,
  plan: (p, { env }) => {
    p.partitionIps = [...env.partitionIps];
  },
  describe: (c) => `cut off from ${c.partition_from.join(", ")}`,
};

/** The network kinds, in the order they are planned and described. */
export const NETWORK_KINDS: readonly NetworkKind[] = [PACKET_LOSS, LATENCY, BANDWIDTH, BLOCK_PORTS, PARTITION];

/** Latency without netem: a TCP delay proxy in the target's netns, with the target's ports redirected to it. */
async function latencyProxy(p: NetworkPlan, ctx: NetworkPartContext): Promise<void> {
  const { config: c, target: t, env } = ctx;
  const ports = c.ports ?? (await listeningPorts(t, ctx.net));
  if (ports.length === 0 && c.targets.length) {
    throw new ValidationError(`chaos: target '${t.name}' has no port to delay`, { hint: "set ports = [...] for the latency proxy" });
  }
  if (ports.length === 0) {
    // Acting on every service (no targets), one without a TCP port (a worker) has nothing for the proxy to delay.
    env.log.warn(`no latency on '${t.name}': it listens on no TCP port for the proxy to delay (set ports = [...], or name it in targets to make this an error)`);
    return;
  }
  const routes = ports.map((port, i) => ({ listen: c.proxy_port_base + i, target: port }));
  const clash = routes.find((r) => ports.includes(r.listen));
  if (clash) throw new ValidationError(`chaos: proxy port ${clash.listen} is one of the target's ports`, { hint: "set proxy_port_base to a free range" });
  await env.run({
    image: c.proxy_image,
    networkOf: t.container.id,
    // Its own uid: the loopback rules tell the proxy's upstream connection apart by it.
    user: `${PROXY_UID}:${PROXY_UID}`,
    entrypoint: ["node"],
    command: ["-e", PROXY_SCRIPT],
    env: { CLNRM_CHAOS_PROXY: JSON.stringify({ routes, latency: c.latency_ms, jitter: c.jitter_ms }) },
    health: { kind: "log", pattern: PROXY_READY },
    labels: { "clnrm.chaos.target": t.name, "clnrm.chaos.role": "proxy" },
  });
  p.redirects = routes.map((r) => ({ port: r.target, to: r.listen }));
  p.proxyUid = PROXY_UID;
}

async function listeningPorts(t: Target, net: RunningContainer): Promise<number[]> {
  const published = Object.keys(t.container.ports).map(Number);
  if (published.length) return published;
  // A target started without a health check may not listen yet: look again for a few seconds.
  for (let i = 0; ; i++) {
    const r = await net.exec(["sh", "-c", LISTEN_PORTS_SCRIPT], { timeoutMs: SIDE_TIMEOUT });
    const ports = parseListenPorts(r.stdout);
    if (ports.length || i >= 20) return ports;
    await new Promise((done) => setTimeout(done, 250));
  }
}

/**
 * The network kinds a config asks for, as one fault: one iptables/tc program (from the kinds'
 * plan), run from a sidecar that shares the target's network namespace (NET_ADMIN). The kinds are
 * applied together because they share that sidecar and our chains (clnrm-TAG-*), whose rules are
 * ordered across kinds, and are removed and verified together ("no clnrm-TAG- chain, no netem/tbf").
 */
class NetworkFault implements Fault {
  readonly kind = "network";
  readonly kinds: readonly NetworkKind[];
  #net: RunningContainer | undefined;
  #plan: NetworkPlan | undefined;
  #mode: LatencyMode = "none";

  constructor(
    readonly config: ChaosConfig,
    readonly target: Target,
  ) {
    this.kinds = NETWORK_KINDS.filter((k) => k.wanted(config));
  }

  async prepare(env: FaultEnv): Promise<void> {
    const c = this.config;
    const t = this.target;
    const net = await env.run({ image: c.sidecar_image, networkOf: t.container.id, capAdd: ["NET_ADMIN"], keepAlive: true, labels: { "clnrm.chaos.target": t.name, "clnrm.chaos.role": "net" } });
    this.#net = net;
    const plan: NetworkPlan = { tag: env.tag, iface: c.interface, lossDirection: c.loss_direction, blockPorts: [], blockAction: c.block_action, partitionIps: [], redirects: [] };
    const ctx: NetworkPartContext = { config: c, env, target: t, net, mode: "none" };
    for (const kind of this.kinds) await kind.plan(plan, ctx);
    this.#mode = ctx.mode;
    this.#plan = plan;
  }

  get #qdisc(): boolean {
    return this.#plan?.netem !== undefined || this.#plan?.bandwidthKbps !== undefined;
  }

  async apply(): Promise<void> {
    if (!this.#net || !this.#plan) return;
    const r = await this.#net.exec(["sh", "-c", applyNetworkScript(this.#plan)], { timeoutMs: SIDE_TIMEOUT });
    if (r.exitCode !== 0) {
      throw new ContainerError(`chaos: cannot apply network faults to '${this.target.name}': ${lastLine(r.stderr || r.stdout)}`, {
        hint: "the sidecar image needs iptables and tc, and the kernel xt_statistic / sch_tbf for loss and bandwidth (xt_owner and xt_REDIRECT for the latency proxy)",
      });
    }
  }

  async remove(): Promise<void> {
    if (!this.#net || !this.#plan) return;
    await this.#net.exec(["sh", "-c", removeNetworkScript(this.#plan.tag, this.#plan.iface, this.#qdisc)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
  }

  async verify(): Promise<string | undefined> {
    if (!this.#net || !this.#plan) return undefined;
    const v = await this.#net.exec(["sh", "-c", verifyNetworkScript(this.#plan.tag, this.#plan.iface, this.#qdisc)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
    const left = v?.stdout.trim();
    return left ? `'${this.target.name}' still has: ${left.replace(/\s*\n\s*/g, "; ")}` : undefined;
  }

  describe(): string {
    return NETWORK.describe(this.config, this.#mode);
  }
}

const NETWORK: FaultKind = {
  kind: "network",
  wanted: (c) => NETWORK_KINDS.some((k) => k.wanted(c)),
  create: (config, target) => new NetworkFault(config, target),
  describe: (c, mode) =>
    NETWORK_KINDS.filter((k) => k.wanted(c))
      .map((k) => k.describe(c, mode))
      .join(", "),
};

/**
 * CPU, memory and disk I/O stress: one stress-ng process, in the target (its cgroup, its limits)
 * when it has stress-ng, else in a sidecar in its netns (host load). One process, so that stopping
 * it and checking that no stress-ng is left covers all three.
 */
class StressFault implements Fault {
  readonly kind = "stress";
  #in: RunningContainer | undefined;
  #pid: number | undefined;

  constructor(
    readonly config: ChaosConfig,
    readonly target: Target,
  ) {}

  async prepare(env: FaultEnv): Promise<void> {
    const c = this.config;
    const t = this.target;
    if (c.stress_mode !== "sidecar") {
      const has = await t.container.exec(["sh", "-c", "command -v stress-ng"], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
      if (has?.exitCode === 0) {
        env.log.progress(`stress-ng runs inside '${t.name}' (its cgroup, its limits)`);
        this.#in = t.container;
        return;
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
    env.log.progress(`stress-ng runs in a sidecar next to '${t.name}' (host load, not counted in the target's cgroup)`);
    this.#in = await env.run({ image: c.stress_image, networkOf: t.container.id, keepAlive: true, labels: { "clnrm.chaos.target": t.name, "clnrm.chaos.role": "stress" } });
  }

  async apply(): Promise<void> {
    if (!this.#in) return;
    const c = this.config;
    const plan: StressPlan = {};
    for (const kind of STRESS_KINDS) if (kind.wanted(c)) kind.plan(plan, c);
    if (c.duration !== undefined) plan.timeoutMs = c.duration + 5_000;
    const r = await this.#in.exec(["sh", "-c", stressStartScript(plan)], { timeoutMs: SIDE_TIMEOUT });
    const pid = Number(r.stdout.trim());
    if (r.exitCode !== 0 || !Number.isInteger(pid) || pid <= 0) {
      throw new ContainerError(`chaos: cannot start stress-ng for '${this.target.name}': ${lastLine(r.stderr || r.stdout)}`, { hint: "check that stress-ng runs in that image" });
    }
    this.#pid = pid;
  }

  async remove(): Promise<void> {
    if (!this.#in || this.#pid === undefined) return;
    await this.#in.exec(["sh", "-c", stressStopScript(this.#pid)], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
  }

  /** Any stress-ng still alive; once none is, the fault is gone (a later `remove` has nothing to stop). */
  async verify(): Promise<string | undefined> {
    if (!this.#in || this.#pid === undefined) return undefined;
    const v = await this.#in.exec(["sh", "-c", STRESS_ALIVE_SCRIPT], { timeoutMs: SIDE_TIMEOUT }).catch(() => undefined);
    const left = v?.stdout.trim();
    if (left) return `'${this.target.name}' still runs stress-ng (pids ${left.replace(/\s+/g, " ")})`;
    this.#pid = undefined;
    return undefined;
  }

  describe(): string {
    return STRESS.describe(this.config, "none");
  }
}

/** One kind of stress (cpu, memory, disk I/O): its part of the stress-ng command. */
export interface StressKind {
  readonly kind: string;
  wanted(c: ChaosConfig): boolean;
  plan(p: StressPlan, c: ChaosConfig): void;
  describe(c: ChaosConfig): string;
}

const CPU: StressKind = {
  kind: "cpu",
  wanted: (c) => c.cpu !== undefined,
  plan: (p, c) => {
    p.cpu = { percent: c.cpu!.stress_percent, workers: c.cpu!.workers };
  },
  describe: (c) => `cpu ${c.cpu!.stress_percent}% x ${c.cpu!.workers || "all"}`,
};

const MEMORY: StressKind = {
  kind: "memory",
  wanted: (c) => c.memory !== undefined,
  plan: (p, c) => {
    p.memoryMb = c.memory!.stress_mb;
  },
  describe: (c) => `memory ${c.memory!.stress_mb} MiB`,
};

const DISK_IO: StressKind = {
  kind: "disk_io",
  wanted: (c) => c.io !== undefined,
  plan: (p, c) => {
    p.ioWorkers = c.io!.workers;
  },
  describe: (c) => `io x ${c.io!.workers}`,
};

/** The stress kinds, in the order they are described. */
export const STRESS_KINDS: readonly StressKind[] = [CPU, MEMORY, DISK_IO];

const STRESS: FaultKind = {
  kind: "stress",
  wanted: (c) => STRESS_KINDS.some((k) => k.wanted(c)),
  create: (config, target) => new StressFault(config, target),
  describe: (c) =>
    STRESS_KINDS.filter((k) => k.wanted(c))
      .map((k) => k.describe(c))
      .join(", "),
};

/** Freezes the target for the window (docker pause / unpause). */
class PauseFault implements Fault {
  readonly kind = "pause";
  #paused = false;
  #applied = false;

  constructor(readonly target: Target) {}

  async prepare(): Promise<void> {}

  async apply(): Promise<void> {
    await this.target.container.pause();
    this.#paused = true;
    this.#applied = true;
  }

  async remove(): Promise<void> {
    if (!this.#paused) return;
    await this.target.container.unpause();
    this.#paused = false;
  }

  async verify(): Promise<string | undefined> {
    if (!this.#applied) return undefined;
    const s = await this.target.container.state().catch(() => undefined);
    return s?.status === "paused" ? `'${this.target.name}' is still paused` : undefined;
  }

  describe(): string {
    return "paused";
  }
}

const PAUSE: FaultKind = { kind: "pause", wanted: (c) => c.pause, create: (_c, target) => new PauseFault(target), describe: () => "paused" };

/** Kills the target (SIGKILL) at the start of the window; with `restart`, restarts it at the end (at once without `duration`). */
class KillFault implements Fault {
  readonly kind = "kill";
  #killed = false;

  constructor(
    readonly config: ChaosConfig,
    readonly target: Target,
  ) {}

  async prepare(): Promise<void> {}

  async apply(): Promise<void> {
    await this.target.container.kill("SIGKILL");
    this.#killed = true;
    if (this.config.restart && this.config.duration === undefined) await this.#restart();
  }

  async remove(): Promise<void> {
    if (this.#killed && this.config.restart) await this.#restart();
  }

  async #restart(): Promise<void> {
    await this.target.container.restart();
    this.#killed = false;
  }

  async verify(): Promise<string | undefined> {
    return undefined;
  }

  describe(): string {
    return KILL.describe(this.config, "none");
  }
}

const KILL: FaultKind = {
  kind: "kill",
  wanted: (c) => c.kill,
  create: (config, target) => new KillFault(config, target),
  describe: (c) => (c.restart ? "killed and restarted" : "killed"),
};

/** Every kind of fault, in the order they are prepared, applied and removed on a target. Adding a kind is adding an entry. */
export const FAULT_KINDS: readonly FaultKind[] = [NETWORK, STRESS, PAUSE, KILL];

/** The faults a config asks for on one target. */
export function faultsFor(config: ChaosConfig, target: Target): Fault[] {
  return FAULT_KINDS.filter((k) => k.wanted(config)).map((k) => k.create(config, target));
}

/** The configured faults in words. */
export function describe(c: ChaosConfig, latencyMode: LatencyMode): string {
  return FAULT_KINDS.filter((k) => k.wanted(c))
    .map((k) => k.describe(c, latencyMode))
    .filter(Boolean)
    .join(", ");
}

/** Probes, from a network sidecar, whether latency can use netem (`mode = "auto"`), or checks that it can (`mode = "netem"`). */
export async function probeLatencyMode(wanted: ChaosConfig["mode"], net: RunningContainer): Promise<"netem" | "proxy"> {
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
