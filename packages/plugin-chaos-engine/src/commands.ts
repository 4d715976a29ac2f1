/**
 * The shell scripts the chaos engine runs: plain functions of the config, so unit tests assert them
 * without Docker. Network scripts run in a sidecar that shares the target's network namespace;
 * every iptables rule lives in chains of our own (clnrm-in, clnrm-out, nat clnrm-pre), so removal
 * is "unhook and delete the chains" and verification is "no clnrm- chain and no netem/tbf left".
 */

export interface NetworkPlan {
  /** Short tag naming our iptables chains (clnrm-TAG-in, -out, -pre). */
  tag: string;
  iface: string;
  lossProbability?: number;
  lossDirection: "in" | "out" | "both";
  /** netem latency (netem mode only). */
  netem?: { latencyMs: number; jitterMs: number };
  bandwidthKbps?: number;
  blockPorts: number[];
  blockAction: "drop" | "reject";
  /** Addresses to cut the target off from. */
  partitionIps: string[];
  /** Proxy mode: incoming connections to `port` go to the proxy at `to`. */
  redirects: { port: number; to: number }[];
}

/** Chain names for one chaos service (a tag keeps two chaos services on one target apart). */
export function chains(tag: string): { in: string; out: string; pre: string } {
  return { in: `clnrm-${tag}-in`, out: `clnrm-${tag}-out`, pre: `clnrm-${tag}-pre` };
}

function jump(action: "drop" | "reject", proto?: "tcp"): string {
  if (action === "drop") return "-j DROP";
  return proto === "tcp" ? "-j REJECT --reject-with tcp-reset" : "-j REJECT";
}

/** Formats a probability the way iptables' statistic match takes it. */
export function probability(percent: number): string {
  return (percent / 100).toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

export function tbfArgs(kbps: number): string {
  // burst: at least two full frames, and about 20 ms worth of data at the rate.
  const burst = Math.max(3200, Math.ceil((kbps * 1000) / 8 / 50));
  return `tbf rate ${kbps}kbit burst ${burst} latency 200ms`;
}

/** Applies a network plan. Fails (set -e) at the first command that fails. */
export function applyNetworkScript(p: NetworkPlan): string {
  const lines: string[] = ["set -e"];
  const ipt = "iptables -w";
  const CHAINS = chains(p.tag);
  const needIn = (p.lossProbability !== undefined && p.lossDirection !== "out") || p.blockPorts.length > 0 || p.partitionIps.length > 0;
  const needOut = (p.lossProbability !== undefined && p.lossDirection !== "in") || p.partitionIps.length > 0;
  if (needIn) lines.push(`${ipt} -N ${CHAINS.in}`, `${ipt} -I INPUT 1 ! -i lo -j ${CHAINS.in}`);
  if (needOut) lines.push(`${ipt} -N ${CHAINS.out}`, `${ipt} -I OUTPUT 1 ! -o lo -j ${CHAINS.out}`);
  for (const port of p.blockPorts) lines.push(`${ipt} -A ${CHAINS.in} -p tcp --dport ${port} ${jump(p.blockAction, "tcp")}`);
  if (p.partitionIps.length && p.blockAction === "reject") {
    // Let our own refusals (RST, ICMP unreachable) out, or the peer would wait for a timeout.
    lines.push(`${ipt} -A ${CHAINS.out} -p tcp --tcp-flags RST RST -j RETURN`, `${ipt} -A ${CHAINS.out} -p icmp --icmp-type destination-unreachable -j RETURN`);
  }
  for (const ip of p.partitionIps) {
    if (p.blockAction === "reject") lines.push(`${ipt} -A ${CHAINS.in} -s ${ip} -p tcp ${jump("reject", "tcp")}`);
    lines.push(`${ipt} -A ${CHAINS.in} -s ${ip} ${jump(p.blockAction)}`, `${ipt} -A ${CHAINS.out} -d ${ip} ${jump(p.blockAction)}`);
  }
  if (p.lossProbability !== undefined) {
    const stat = `-m statistic --mode random --probability ${p.lossProbability}`;
    if (p.lossDirection !== "out") lines.push(`${ipt} -A ${CHAINS.in} ${stat} -j DROP`);
    if (p.lossDirection !== "in") lines.push(`${ipt} -A ${CHAINS.out} ${stat} -j DROP`);
  }
  if (p.redirects.length) {
    lines.push(`${ipt} -t nat -N ${CHAINS.pre}`, `${ipt} -t nat -I PREROUTING 1 -j ${CHAINS.pre}`);
    for (const r of p.redirects) lines.push(`${ipt} -t nat -A ${CHAINS.pre} -p tcp --dport ${r.port} -j REDIRECT --to-ports ${r.to}`);
  }
  if (p.netem) {
    const jitter = p.netem.jitterMs > 0 ? ` ${p.netem.jitterMs}ms` : "";
    lines.push(`tc qdisc add dev ${p.iface} root handle 1: netem delay ${p.netem.latencyMs}ms${jitter}`);
    if (p.bandwidthKbps !== undefined) lines.push(`tc qdisc add dev ${p.iface} parent 1:1 handle 10: ${tbfArgs(p.bandwidthKbps)}`);
  } else if (p.bandwidthKbps !== undefined) {
    lines.push(`tc qdisc add dev ${p.iface} root handle 1: ${tbfArgs(p.bandwidthKbps)}`);
  }
  return lines.join("\n");
}

/** Removes everything applyNetworkScript may have added. Never fails; safe to run twice. */
export function removeNetworkScript(tag: string, iface: string, qdisc: boolean): string {
  const ipt = "iptables -w";
  const CHAINS = chains(tag);
  return [
    `while ${ipt} -D INPUT ! -i lo -j ${CHAINS.in} 2>/dev/null; do :; done`,
    `while ${ipt} -D OUTPUT ! -o lo -j ${CHAINS.out} 2>/dev/null; do :; done`,
    `while ${ipt} -t nat -D PREROUTING -j ${CHAINS.pre} 2>/dev/null; do :; done`,
    `${ipt} -F ${CHAINS.in} 2>/dev/null; ${ipt} -X ${CHAINS.in} 2>/dev/null`,
    `${ipt} -F ${CHAINS.out} 2>/dev/null; ${ipt} -X ${CHAINS.out} 2>/dev/null`,
    `${ipt} -t nat -F ${CHAINS.pre} 2>/dev/null; ${ipt} -t nat -X ${CHAINS.pre} 2>/dev/null`,
    ...(qdisc ? [`if tc qdisc show dev ${iface} | grep -Eq 'netem|tbf'; then tc qdisc del dev ${iface} root 2>/dev/null; fi`] : []),
    "true",
  ].join("\n");
}

/** Prints what is left of our faults (nothing when recovery is complete). */
export function verifyNetworkScript(tag: string, iface: string, qdisc: boolean): string {
  return [
    `iptables -w -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    `iptables -w -t nat -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    ...(qdisc ? [`tc qdisc show dev ${iface} | grep -E 'netem|tbf' || true`] : []),
  ].join("\n");
}

/** Exits 0 when the kernel has sch_netem (adds and removes a 1 ms delay on loopback). */
export const NETEM_PROBE = "tc qdisc add dev lo root netem delay 1ms 2>/dev/null && tc qdisc del dev lo root";

/** Prints the TCP ports in LISTEN state in the network namespace (from /proc/net/tcp{,6}). */
export const LISTEN_PORTS_SCRIPT = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == \"0A\" { split($2, a, \":\"); print a[2] }' | sort -u";

export function parseListenPorts(stdout: string): number[] {
  const ports = new Set<number>();
  for (const hex of stdout.split(/\s+/)) if (/^[0-9A-Fa-f]{4}$/.test(hex)) ports.add(Number.parseInt(hex, 16));
  return [...ports].filter((p) => p > 0).sort((a, b) => a - b);
}

export interface StressPlan {
  cpu?: { percent: number; workers: number };
  memoryMb?: number;
  ioWorkers?: number;
  timeoutMs?: number;
}

export function stressArgs(p: StressPlan): string[] {
  const args = ["stress-ng"];
  if (p.cpu) args.push("--cpu", String(p.cpu.workers), "--cpu-load", String(p.cpu.percent));
  if (p.memoryMb !== undefined) args.push("--vm", "1", "--vm-bytes", `${p.memoryMb}M`, "--vm-keep");
  if (p.ioWorkers !== undefined) args.push("--hdd", String(p.ioWorkers), "--hdd-bytes", "16M", "--temp-path", "/tmp");
  if (p.timeoutMs !== undefined) args.push("--timeout", `${Math.max(1, Math.ceil(p.timeoutMs / 1000))}s`);
  return args;
}

function quote(s: string): string {
  return /^[a-zA-Z0-9_./:=%-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Starts stress-ng in the background inside the target and prints its pid. */
export function stressStartScript(p: StressPlan): string {
  return `${stressArgs(p).map(quote).join(" ")} >/dev/null 2>&1 </dev/null & echo $!`;
}

/** Prints the pids of live (non-zombie) stress-ng processes. */
export const STRESS_ALIVE_SCRIPT = "for d in /proc/[0-9]*; do c=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null); case \"$c\" in stress-ng*) s=$(sed 's/.*) //' $d/stat 2>/dev/null | cut -d' ' -f1); [ -n \"$s\" ] && [ \"$s\" != Z ] && echo ${d#/proc/};; esac; done; true";

/** Stops the stress-ng started with pid `pid` (its workers follow), then any stress-ng left. */
export function stressStopScript(pid: number): string {
  return `kill -TERM ${pid} 2>/dev/null; i=0; while [ $i -lt 50 ] && [ -n "$(${STRESS_ALIVE_SCRIPT})" ]; do sleep 0.1; i=$((i+1)); done; for p in $(${STRESS_ALIVE_SCRIPT}); do kill -KILL $p 2>/dev/null; done; true`;
}
