/**
 * The shell scripts the chaos engine runs: plain functions of the config, so unit tests assert them
 * without Docker. Network scripts run in a sidecar that shares the target's network namespace;
 * every iptables rule lives in chains of our own (clnrm-TAG-in, -out, -lo, nat -pre, nat -lo), so
 * removal is "unhook and delete the chains" and verification is "no clnrm-TAG- chain and no
 * netem/tbf left".
 *
 * The target's own traffic includes its loopback: a step `curl http://localhost:8080` run inside
 * the target is delayed and loses packets like a client on the network. On loopback every packet
 * is both sent and received by the target, so loss drops each one once (filter INPUT -i lo), netem
 * on lo delays each packet by half the latency (a round trip gains latency_ms, as it does for a
 * client on the network under netem on the target's egress), and the proxy gets the target's
 * loopback connections through nat OUTPUT -o lo. The proxy's own upstream connection is told apart
 * by its uid (`-m owner`) so it is not redirected again, and by its port so it is not dropped.
 */

/** The uid the latency proxy runs as: its packets are the ones our loopback rules let through. */
export const PROXY_UID = 39_999;

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
  /** Proxy mode: connections to `port` (incoming, and the target's own over loopback) go to the proxy at `to`. */
  redirects: { port: number; to: number }[];
  /** Proxy mode: the proxy's uid, whose loopback traffic is neither redirected nor dropped. */
  proxyUid?: number;
}

/** Chain names for one chaos service (a tag keeps two chaos services on one target apart). */
export function chains(tag: string): { in: string; out: string; pre: string; lo: string } {
  // `lo` names a filter chain (loss) and a nat chain (redirects): tables keep their own chains.
  return { in: `clnrm-${tag}-in`, out: `clnrm-${tag}-out`, pre: `clnrm-${tag}-pre`, lo: `clnrm-${tag}-lo` };
}

/** Runs the lines for IPv6 only where the netns has IPv6 on loopback (::1) and ip6tables works. */
function ipv6(lines: string[]): string[] {
  if (lines.length === 0) return [];
  return ['if [ -n "$(ip -6 addr show dev lo 2>/dev/null)" ] && ip6tables -w -S >/dev/null 2>&1; then', ...lines.map((l) => `  ${l}`), "fi"];
}

/** Loopback rules (loss and proxy redirects) for one address family. */
function loopbackLines(p: NetworkPlan, ipt: string, v4: boolean): string[] {
  const C = chains(p.tag);
  const lines: string[] = [];
  if (p.lossProbability !== undefined) {
    // Dropped where loopback packets are received (INPUT -i lo), as on a wire: a DROP in OUTPUT
    // would fail the sender's call with EPERM instead of losing the packet.
    lines.push(`${ipt} -N ${C.lo}`, `${ipt} -I INPUT 1 -i lo -j ${C.lo}`);
    // Docker's embedded DNS answers on 127.0.0.11: name lookups are the engine's, not the target's traffic.
    if (v4) lines.push(`${ipt} -A ${C.lo} -s 127.0.0.11 -j RETURN`, `${ipt} -A ${C.lo} -d 127.0.0.11 -j RETURN`);
    // Loopback packets to or from a covered port are the proxy's upstream connection (every other is redirected).
    for (const r of p.redirects) lines.push(`${ipt} -A ${C.lo} -p tcp --dport ${r.port} -j RETURN`, `${ipt} -A ${C.lo} -p tcp --sport ${r.port} -j RETURN`);
    lines.push(`${ipt} -A ${C.lo} -m statistic --mode random --probability ${p.lossProbability} -j DROP`);
  }
  if (p.redirects.length) {
    lines.push(`${ipt} -t nat -N ${C.lo}`, `${ipt} -t nat -I OUTPUT 1 -o lo -p tcp -j ${C.lo}`);
    if (p.proxyUid !== undefined) lines.push(`${ipt} -t nat -A ${C.lo} -p tcp -m owner --uid-owner ${p.proxyUid} -j RETURN`);
    for (const r of p.redirects) lines.push(`${ipt} -t nat -A ${C.lo} -p tcp --dport ${r.port} -j REDIRECT --to-ports ${r.to}`);
  }
  return lines;
}

/** netem arguments for loopback: half the delay per packet, since a loopback round trip crosses lo twice. */
export function loopbackNetem(latencyMs: number, jitterMs: number): string {
  const half = (ms: number) => `${ms / 2}ms`;
  return `netem delay ${half(latencyMs)}${jitterMs > 0 ? ` ${half(jitterMs)}` : ""}`;
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
  lines.push(...loopbackLines(p, ipt, true), ...ipv6(loopbackLines(p, "ip6tables -w", false)));
  if (p.netem) {
    const jitter = p.netem.jitterMs > 0 ? ` ${p.netem.jitterMs}ms` : "";
    lines.push(`tc qdisc add dev ${p.iface} root handle 1: netem delay ${p.netem.latencyMs}ms${jitter}`);
    if (p.iface !== "lo") lines.push(`tc qdisc add dev lo root handle 1: ${loopbackNetem(p.netem.latencyMs, p.netem.jitterMs)}`);
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
  const loopback = (ipt: string) => [
    `while ${ipt} -D INPUT -i lo -j ${CHAINS.lo} 2>/dev/null; do :; done`,
    `while ${ipt} -t nat -D OUTPUT -o lo -p tcp -j ${CHAINS.lo} 2>/dev/null; do :; done`,
    `${ipt} -F ${CHAINS.lo} 2>/dev/null; ${ipt} -X ${CHAINS.lo} 2>/dev/null`,
    `${ipt} -t nat -F ${CHAINS.lo} 2>/dev/null; ${ipt} -t nat -X ${CHAINS.lo} 2>/dev/null`,
  ];
  return [
    `while ${ipt} -D INPUT ! -i lo -j ${CHAINS.in} 2>/dev/null; do :; done`,
    `while ${ipt} -D OUTPUT ! -o lo -j ${CHAINS.out} 2>/dev/null; do :; done`,
    `while ${ipt} -t nat -D PREROUTING -j ${CHAINS.pre} 2>/dev/null; do :; done`,
    `${ipt} -F ${CHAINS.in} 2>/dev/null; ${ipt} -X ${CHAINS.in} 2>/dev/null`,
    `${ipt} -F ${CHAINS.out} 2>/dev/null; ${ipt} -X ${CHAINS.out} 2>/dev/null`,
    `${ipt} -t nat -F ${CHAINS.pre} 2>/dev/null; ${ipt} -t nat -X ${CHAINS.pre} 2>/dev/null`,
    ...loopback(ipt),
    "if command -v ip6tables >/dev/null 2>&1; then",
    ...loopback("ip6tables -w").map((l) => `  ${l}`),
    "fi",
    ...(qdisc
      ? [
          `if tc qdisc show dev ${iface} | grep -Eq 'netem|tbf'; then tc qdisc del dev ${iface} root 2>/dev/null; fi`,
          "if tc qdisc show dev lo | grep -q netem; then tc qdisc del dev lo root 2>/dev/null; fi",
        ]
      : []),
    "true",
  ].join("\n");
}

/** Prints what is left of our faults (nothing when recovery is complete). */
export function verifyNetworkScript(tag: string, iface: string, qdisc: boolean): string {
  return [
    `iptables -w -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    `iptables -w -t nat -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    `ip6tables -w -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    `ip6tables -w -t nat -S 2>/dev/null | grep -e 'clnrm-${tag}-' || true`,
    ...(qdisc ? [`tc qdisc show dev ${iface} | grep -E 'netem|tbf' || true`, "tc qdisc show dev lo | grep netem || true"] : []),
  ].join("\n");
}

/** Exits 0 when the kernel has sch_netem (adds and removes a 1 ms delay on loopback). */
export const NETEM_PROBE = "tc qdisc add dev lo root netem delay 1ms 2>/dev/null && tc qdisc del dev lo root";

/** Prints `ADDRESS:PORT` (hex, as the kernel writes them) of the TCP sockets in LISTEN state in the network namespace. */
export const LISTEN_PORTS_SCRIPT = "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == \"0A\" { print $2 }' | sort -u";

/** Docker's embedded DNS resolver (127.0.0.11, as /proc/net/tcp writes it): it listens in every container's netns, and is not the target's. */
const DOCKER_DNS_HEX = "0B00007F";

/** The ports of LISTEN_PORTS_SCRIPT's output (bare hex ports are accepted too), without Docker's DNS resolver. */
export function parseListenPorts(stdout: string): number[] {
  const ports = new Set<number>();
  for (const token of stdout.split(/\s+/)) {
    const m = /^(?:([0-9A-Fa-f]+):)?([0-9A-Fa-f]{4})$/.exec(token);
    if (!m || m[1]?.toUpperCase() === DOCKER_DNS_HEX) continue;
    ports.add(Number.parseInt(m[2]!, 16));
  }
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
