import { execFileSync } from "node:child_process";
import type { RunningContainer } from "@clnrm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMyApi, type Env, leftContainers, median, MY_API, NODE, setup, startChaos, TOOLS, teardown } from "./helpers.js";

// The target's own traffic, its loopback included: the spec's step `curl -w "%{time_total}"
// http://localhost:8080/api`, run inside the target, measured there.
let env: Env | undefined;
let api: RunningContainer;
let apiNet: RunningContainer;
const side = { sidecar_image: TOOLS, proxy_image: NODE };

beforeAll(async () => {
  buildMyApi();
  env = await setup();
  api = await env.backend.run({ image: MY_API, health: { kind: "tcp", port: 8080 } }, { runId: env.runId, service: "api", network: env.network });
  apiNet = await env.backend.run({ image: TOOLS, keepAlive: true, networkOf: api.id, capAdd: ["NET_ADMIN"] }, { runId: env.runId, service: "inspector" });
}, 180_000);

afterAll(async () => {
  await teardown(env);
  if (env) expect(leftContainers(env.runId)).toBe("");
}, 60_000);

/** curl inside the target itself: seconds curl measured. */
async function selfCurl(c: RunningContainer, url = "http://localhost:8080/api"): Promise<number> {
  const r = await c.exec(["curl", "-sf", "-o", "/dev/null", "--max-time", "10", "-w", "%{time_total}", url], { timeoutMs: 20_000 });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

async function loopbackRules(): Promise<string> {
  const r = await apiNet.exec(["sh", "-c", "iptables -w -S | grep clnrm-; iptables -w -t nat -S | grep clnrm-; tc qdisc show dev lo | grep netem; true"]);
  return r.stdout.trim();
}

describe("chaos_engine on the target's loopback (real Docker)", () => {
  it("latency 200 ms: curl localhost inside the target takes > 0.2 s, < 0.1 s without and after", async () => {
    const e = env!;
    const base = await median(5, () => selfCurl(api));
    const { handle, stop } = await startChaos(e, { ...side, latency_ms: 200 }, { api });
    let slow: number[];
    try {
      slow = [];
      for (let i = 0; i < 5; i++) slow.push(await selfCurl(api));
      // 127.0.0.1 and the target's own address go over lo too.
      slow.push(await selfCurl(api, "http://127.0.0.1:8080/api"), await selfCurl(api, `http://${api.networkIp}:8080/api`));
      expect(await loopbackRules()).toMatch(/-A OUTPUT -o lo -p tcp -j clnrm-[0-9a-f]{6}-lo/);
    } finally {
      await stop();
    }
    const after = await median(5, () => selfCurl(api));
    const sorted = [...slow].sort((a, b) => a - b);
    console.log(
      `loopback latency (${handle.outputs.latency_mode}): baseline median ${base}s; with 200ms min ${sorted[0]}s median ${sorted[Math.floor(sorted.length / 2)]}s max ${sorted.at(-1)}s; after ${after}s`,
    );
    expect(base).toBeLessThan(0.1);
    for (const s of slow) expect(s).toBeGreaterThan(0.2);
    expect(after).toBeLessThan(0.1);
    expect(await loopbackRules()).toBe("");
  });

  it("25% packet loss reaches loopback: ping 127.0.0.1 inside the target loses 1-(0.75)^2 of its round trips", async () => {
    const e = env!;
    const n = 200;
    const ping = async () => {
      const r = await api.exec(["sh", "-c", `busybox ping -q -c ${n} -i 0.01 -W 1 127.0.0.1 || true`], { timeoutMs: 60_000 });
      const m = /(\d+) packets received/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      return n - Number(m![1]);
    };
    expect(await ping()).toBe(0);
    const { stop } = await startChaos(e, { ...side, packet_loss_percent: 25 }, { api });
    let lost: number;
    try {
      expect(await loopbackRules()).toMatch(/-A INPUT -i lo -j clnrm-[0-9a-f]{6}-lo/);
      lost = await ping();
    } finally {
      await stop();
    }
    // Echo request and reply each cross lo once, and each is dropped with p = 0.25.
    const q = 1 - 0.75 ** 2;
    const sigma = Math.sqrt(n * q * (1 - q));
    console.log(`loopback loss: ${lost}/${n} round trips lost, expected ${(n * q).toFixed(1)} ± ${(4 * sigma).toFixed(1)}`);
    expect(Math.abs(lost - n * q)).toBeLessThanOrEqual(4 * sigma);
    expect(await ping()).toBe(0);
    expect(await loopbackRules()).toBe("");
  });

  it("latency and loss together: the proxy's upstream is exempt from both, and a request passes the proxy once", async () => {
    const e = env!;
    const { stop } = await startChaos(e, { ...side, latency_ms: 200, packet_loss_percent: 1, loss_direction: "out" }, { api });
    try {
      const rules = await loopbackRules();
      expect(rules).toMatch(/-A clnrm-[0-9a-f]{6}-lo -p tcp -m tcp --dport 8080 -j RETURN/);
      expect(rules).toMatch(/-A clnrm-[0-9a-f]{6}-lo -p tcp -m owner --uid-owner 39999 -j RETURN/);
      // Not redirected again: one pass through the proxy is 200 ms, a loop would never answer
      // (and 1% loss on the client's hop costs at most a retransmit now and then).
      const s = await selfCurl(api);
      expect(s).toBeGreaterThan(0.2);
      expect(s).toBeLessThan(5);
    } finally {
      await stop();
    }
    expect(await loopbackRules()).toBe("");
  });

  it("IPv6 on the target's loopback (::1): curl [::1] and localhost are delayed, ping6 ::1 loses packets", async () => {
    const e = env!;
    const api6 = await e.backend.run({ image: MY_API, health: { kind: "tcp", port: 8080 } }, { runId: e.runId, service: "api6", network: e.network });
    // Docker turns IPv6 off in a container on a network without it; turn it on for lo in api6's netns
    // (net.* sysctls are per netns; /proc/sys is writable only with systempaths=unconfined, which
    // the backend's ContainerSpec does not offer, hence the docker CLI).
    execFileSync("docker", [
      "run", "--rm", "--label", `clnrm.run=${e.runId}`, "--network", `container:${api6.id}`, "--cap-add", "NET_ADMIN",
      "--security-opt", "systempaths=unconfined", TOOLS, "sysctl", "-w", "net.ipv6.conf.lo.disable_ipv6=0",
    ], { stdio: "pipe" });
    const v6 = await api6.exec(["sh", "-c", "ip -6 addr show dev lo"]);
    expect(v6.stdout).toContain("::1/128");
    const inspector6 = await e.backend.run({ image: TOOLS, keepAlive: true, networkOf: api6.id, capAdd: ["NET_ADMIN"] }, { runId: e.runId, service: "inspector6" });
    const v6rules = async () => (await inspector6.exec(["sh", "-c", "ip6tables -w -S | grep clnrm-; ip6tables -w -t nat -S | grep clnrm-; true"])).stdout.trim();
    const base = await selfCurl(api6, "http://[::1]:8080/api");
    const { stop } = await startChaos(e, { ...side, latency_ms: 200 }, { api6 });
    let slow: number[];
    try {
      expect(await v6rules()).toMatch(/-A OUTPUT -o lo -p tcp -j clnrm-[0-9a-f]{6}-lo/);
      slow = [await selfCurl(api6, "http://[::1]:8080/api"), await selfCurl(api6, "http://localhost:8080/api"), await selfCurl(api6, "http://127.0.0.1:8080/api")];
    } finally {
      await stop();
    }
    expect(await v6rules()).toBe("");
    const after = await selfCurl(api6, "http://[::1]:8080/api");
    console.log(`loopback latency over ::1: baseline ${base}s; with 200ms [::1] ${slow[0]}s, localhost ${slow[1]}s, 127.0.0.1 ${slow[2]}s; after ${after}s`);
    expect(base).toBeLessThan(0.1);
    for (const s of slow) expect(s).toBeGreaterThan(0.2);
    expect(after).toBeLessThan(0.1);

    const n = 200;
    const ping6 = async () => {
      const r = await api6.exec(["sh", "-c", `busybox ping6 -q -c ${n} -i 0.01 -W 1 ::1 || true`], { timeoutMs: 60_000 });
      const m = /(\d+) packets received/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      return n - Number(m![1]);
    };
    const { stop: stopLoss } = await startChaos(e, { ...side, packet_loss_percent: 25 }, { api6 });
    let lost: number;
    try {
      lost = await ping6();
    } finally {
      await stopLoss();
    }
    const q = 1 - 0.75 ** 2;
    const sigma = Math.sqrt(n * q * (1 - q));
    console.log(`loopback loss over ::1: ${lost}/${n} lost, expected ${(n * q).toFixed(1)} ± ${(4 * sigma).toFixed(1)}`);
    expect(Math.abs(lost - n * q)).toBeLessThanOrEqual(4 * sigma);
    expect(await ping6()).toBe(0);
    expect(await v6rules()).toBe("");
  });
});
