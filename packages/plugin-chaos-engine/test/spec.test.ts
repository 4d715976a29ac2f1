import type { RunningContainer } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import chaos, {
  applyNetworkScript,
  configSchema,
  DEFAULT_PROXY_IMAGE,
  DEFAULT_SIDECAR_IMAGE,
  describeFaults,
  FAULT_KINDS,
  faultsFor,
  NETWORK_KINDS,
  parseListenPorts,
  PROXY_UID,
  probability,
  removeNetworkScript,
  STRESS_KINDS,
  stressArgs,
  tbfArgs,
  verifyNetworkScript,
} from "../src/index.js";

const base = { tag: "abc123", iface: "eth0", lossDirection: "in" as const, blockPorts: [], blockAction: "drop" as const, partitionIps: [], redirects: [] };

describe("chaos_engine config and commands (no Docker)", () => {
  it("defaults to pinned upstream images and declares role and refs", () => {
    const c = configSchema.parse({ latency_ms: 200 });
    expect(c.sidecar_image).toBe(DEFAULT_SIDECAR_IMAGE);
    expect(DEFAULT_SIDECAR_IMAGE).toBe("nicolaka/netshoot:v0.13");
    expect(c.proxy_image).toBe(DEFAULT_PROXY_IMAGE);
    expect(DEFAULT_PROXY_IMAGE).toMatch(/^node:\d+\.\d+\.\d+-/);
    expect(chaos.role).toBe("chaos");
    expect(chaos.serviceRefs?.(configSchema.parse({ targets: ["web"], partition_from: ["db"], block_ports: [1] }))).toEqual(["web", "db"]);
    expect(chaos.serviceRefs?.(configSchema.parse({ partition_from: ["db"] }))).toEqual(["db"]);
    expect(configSchema.parse({ block_ports: [1], duration: "2s", start_after: "500ms" })).toMatchObject({ duration: 2000, start_after: 500, repeat: 1 });
  });

  it("builds the iptables and tc commands", () => {
    expect(probability(25)).toBe("0.25");
    const s = applyNetworkScript({
      ...base,
      lossProbability: 0.25,
      blockPorts: [8080],
      partitionIps: ["10.0.0.5"],
      redirects: [{ port: 8080, to: 39100 }],
      proxyUid: PROXY_UID,
      bandwidthKbps: 1024,
    });
    expect(s.split("\n")).toEqual([
      "set -e",
      "iptables -w -N clnrm-abc123-in",
      "iptables -w -I INPUT 1 ! -i lo -j clnrm-abc123-in",
      "iptables -w -N clnrm-abc123-out",
      "iptables -w -I OUTPUT 1 ! -o lo -j clnrm-abc123-out",
      "iptables -w -A clnrm-abc123-in -p tcp --dport 8080 -j DROP",
      "iptables -w -A clnrm-abc123-in -s 10.0.0.5 -j DROP",
      "iptables -w -A clnrm-abc123-out -d 10.0.0.5 -j DROP",
      "iptables -w -A clnrm-abc123-in -m statistic --mode random --probability 0.25 -j DROP",
      "iptables -w -t nat -N clnrm-abc123-pre",
      "iptables -w -t nat -I PREROUTING 1 -j clnrm-abc123-pre",
      "iptables -w -t nat -A clnrm-abc123-pre -p tcp --dport 8080 -j REDIRECT --to-ports 39100",
      // The target's own loopback: loss where lo packets are received, the proxy's upstream exempt
      // by port (loss) and by uid (redirect); Docker's DNS left alone.
      "iptables -w -N clnrm-abc123-lo",
      "iptables -w -I INPUT 1 -i lo -j clnrm-abc123-lo",
      "iptables -w -A clnrm-abc123-lo -s 127.0.0.11 -j RETURN",
      "iptables -w -A clnrm-abc123-lo -d 127.0.0.11 -j RETURN",
      "iptables -w -A clnrm-abc123-lo -p tcp --dport 8080 -j RETURN",
      "iptables -w -A clnrm-abc123-lo -p tcp --sport 8080 -j RETURN",
      "iptables -w -A clnrm-abc123-lo -m statistic --mode random --probability 0.25 -j DROP",
      "iptables -w -t nat -N clnrm-abc123-lo",
      "iptables -w -t nat -I OUTPUT 1 -o lo -p tcp -j clnrm-abc123-lo",
      "iptables -w -t nat -A clnrm-abc123-lo -p tcp -m owner --uid-owner 39999 -j RETURN",
      "iptables -w -t nat -A clnrm-abc123-lo -p tcp --dport 8080 -j REDIRECT --to-ports 39100",
      // The same for ::1 where the netns has IPv6 on lo.
      'if [ -n "$(ip -6 addr show dev lo 2>/dev/null)" ] && ip6tables -w -S >/dev/null 2>&1; then',
      "  ip6tables -w -N clnrm-abc123-lo",
      "  ip6tables -w -I INPUT 1 -i lo -j clnrm-abc123-lo",
      "  ip6tables -w -A clnrm-abc123-lo -p tcp --dport 8080 -j RETURN",
      "  ip6tables -w -A clnrm-abc123-lo -p tcp --sport 8080 -j RETURN",
      "  ip6tables -w -A clnrm-abc123-lo -m statistic --mode random --probability 0.25 -j DROP",
      "  ip6tables -w -t nat -N clnrm-abc123-lo",
      "  ip6tables -w -t nat -I OUTPUT 1 -o lo -p tcp -j clnrm-abc123-lo",
      "  ip6tables -w -t nat -A clnrm-abc123-lo -p tcp -m owner --uid-owner 39999 -j RETURN",
      "  ip6tables -w -t nat -A clnrm-abc123-lo -p tcp --dport 8080 -j REDIRECT --to-ports 39100",
      "fi",
      `tc qdisc add dev eth0 root handle 1: ${tbfArgs(1024)}`,
    ]);
    const n = applyNetworkScript({ ...base, netem: { latencyMs: 200, jitterMs: 20 }, bandwidthKbps: 512 });
    expect(n).toContain("tc qdisc add dev eth0 root handle 1: netem delay 200ms 20ms");
    expect(n).toContain("tc qdisc add dev eth0 parent 1:1 handle 10: tbf rate 512kbit");
    // netem on lo: half per packet, since a loopback round trip crosses lo twice (+200 ms per round trip).
    expect(n).toContain("tc qdisc add dev lo root handle 1: netem delay 100ms 10ms");
    expect(applyNetworkScript({ ...base, netem: { latencyMs: 1, jitterMs: 0 } }).split("\n")).toContain("tc qdisc add dev lo root handle 1: netem delay 0.5ms");
    expect(applyNetworkScript({ ...base, netem: { latencyMs: 200, jitterMs: 0 } })).not.toContain("iptables");
    expect(removeNetworkScript("abc123", "eth0", true)).toContain("tc qdisc del dev lo root");
    expect(verifyNetworkScript("abc123", "eth0", true)).toContain("tc qdisc show dev lo | grep netem");
    expect(removeNetworkScript("abc123", "eth0", false)).not.toContain("tc qdisc");
    for (const hook of ["-D INPUT -i lo -j clnrm-abc123-lo", "-t nat -D OUTPUT -o lo -p tcp -j clnrm-abc123-lo", "-t nat -X clnrm-abc123-lo"]) {
      expect(removeNetworkScript("abc123", "eth0", false)).toContain(`iptables -w ${hook}`);
      expect(removeNetworkScript("abc123", "eth0", false)).toContain(`ip6tables -w ${hook}`);
    }
  });

  it("builds stress-ng arguments and parses listening ports", () => {
    expect(stressArgs({ cpu: { percent: 50, workers: 1 }, memoryMb: 256, ioWorkers: 1, timeoutMs: 1500 })).toEqual([
      "stress-ng", "--cpu", "1", "--cpu-load", "50", "--vm", "1", "--vm-bytes", "256M", "--vm-keep", "--hdd", "1", "--hdd-bytes", "16M", "--temp-path", "/tmp", "--timeout", "2s",
    ]);
    expect(parseListenPorts("1F90\n0050\n")).toEqual([80, 8080]);
    // Docker's embedded DNS (127.0.0.11) listens in every container's netns: not a port of the target.
    expect(parseListenPorts("00000000:1F90\n0B00007F:A3C1\n0100007F:0050\n00000000000000000000000000000000:1F90\n")).toEqual([80, 8080]);
  });

  it("the spec's spelling: chaos.network / chaos.cpu / chaos.memory / chaos.disk (PLUGIN-001 example table)", () => {
    // test/fixtures/spec/chaos-example.clnrm.toml's [services.chaos], as TOML parses it.
    const c = configSchema.parse({ chaos: { network: { latency_ms: 100, packet_loss_percent: 10 }, cpu: { stress_percent: 50 }, memory: { stress_mb: 512 } } });
    expect(c).toMatchObject({ latency_ms: 100, packet_loss_percent: 10, cpu: { stress_percent: 50, workers: 0 }, memory: { stress_mb: 512 }, targets: [] });
    expect(c).not.toHaveProperty("chaos");
    expect(c).toMatchObject({ loss_direction: "in", jitter_ms: 0, block_ports: [], block_action: "drop", partition_from: [] });
    expect(configSchema.parse({ chaos: { disk: { workers: 2 } } }).io).toEqual({ workers: 2 });
    expect(configSchema.parse({ chaos: { network: { block_ports: [80], block_action: "reject", partition_from: ["db"] } } })).toMatchObject({ block_ports: [80], block_action: "reject", partition_from: ["db"] });
    expect(chaos.serviceRefs?.(configSchema.parse({ chaos: { network: { partition_from: ["db"] } } }))).toEqual(["db"]);
    // The flat spelling is the same config.
    expect(configSchema.parse({ latency_ms: 100, packet_loss_percent: 10, cpu: { stress_percent: 50 }, memory: { stress_mb: 512 } })).toEqual(c);
  });

  it("both spellings of one key: a 'same setting' error naming the spec's; unknown nested keys refused", () => {
    const issues = (v: unknown) => configSchema.safeParse(v).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues({ latency_ms: 100, chaos: { network: { latency_ms: 200 } } })).toEqual(["latency_ms: 'latency_ms' and 'chaos.network.latency_ms' are the same setting: keep 'chaos.network.latency_ms'"]);
    expect(issues({ io: { workers: 1 }, chaos: { disk: { workers: 1 } } })).toEqual(["io: 'io' and 'chaos.disk' are the same setting: keep 'chaos.disk'"]);
    for (const bad of [{ chaos: { network: { latency: 100 } } }, { chaos: { cpu: { percent: 50 } } }, { chaos: { io: { workers: 1 } } }, { chaos: { network: { packet_loss_percent: 101 } } }, { chaos: {} }]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(issues({ chaos: { network: { jitter_ms: 5 } } })).toContain("jitter_ms: jitter_ms needs latency_ms");
  });

  it("one fault object per configured kind, in FAULT_KINDS order, each described by its parts", () => {
    // Creating a fault touches nothing: the container is only used from prepare on (the int tests).
    const target = { name: "web", container: {} as RunningContainer };
    const kinds = (v: unknown) => faultsFor(configSchema.parse(v), target).map((f) => f.kind);
    expect(FAULT_KINDS.map((k) => k.kind)).toEqual(["network", "stress", "pause", "kill"]);
    // Network and stress kinds are parts of one program each (one iptables/tc script, one stress-ng).
    expect(NETWORK_KINDS.map((k) => k.kind)).toEqual(["packet_loss", "latency", "bandwidth", "block_ports", "partition"]);
    expect(STRESS_KINDS.map((k) => k.kind)).toEqual(["cpu", "memory", "disk_io"]);
    const net = faultsFor(configSchema.parse({ bandwidth_kbps: 64, partition_from: ["db"] }), target)[0] as { kinds?: readonly { kind: string }[] };
    expect(net.kinds?.map((k) => k.kind)).toEqual(["bandwidth", "partition"]);
    expect(kinds({ latency_ms: 100, cpu: {} })).toEqual(["network", "stress"]);
    expect(kinds({ pause: true, memory: { stress_mb: 1 } })).toEqual(["stress", "pause"]);
    expect(kinds({ block_ports: [80], partition_from: ["db"] })).toEqual(["network"]);
    expect(kinds({ kill: true, restart: true })).toEqual(["kill"]);
    const c = configSchema.parse({ chaos: { network: { latency_ms: 100, jitter_ms: 10, packet_loss_percent: 10 }, cpu: { stress_percent: 50 }, disk: { workers: 2 } }, pause: true });
    expect(describeFaults(c, "netem")).toBe("10% packet loss (in), 100ms ±10ms latency (netem), cpu 50% x all, io x 2, paused");
    expect(faultsFor(c, target).map((f) => f.describe())).toEqual(["10% packet loss (in), 100ms ±10ms latency (none)", "cpu 50% x all, io x 2", "paused"]);
    expect(describeFaults(configSchema.parse({ kill: true, restart: true }), "none")).toBe("killed and restarted");
  });

  it("rejects configs without a fault, or with inconsistent scheduling", () => {
    expect(configSchema.safeParse({}).success).toBe(false);
    expect(configSchema.safeParse({ block_ports: [1], repeat: 2 }).success).toBe(false);
    expect(configSchema.safeParse({ block_ports: [1], repeat: 2, duration: "1s" }).success).toBe(true);
  });
});
