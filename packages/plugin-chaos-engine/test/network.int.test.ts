import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { curlTime, type Env, leftContainers, leftovers, median, NODE, setup, startChaos, TOOLS, teardown } from "./helpers.js";

let env: Env | undefined;
const side = { sidecar_image: TOOLS, proxy_image: NODE };

beforeAll(async () => {
  env = await setup();
}, 120_000);

afterAll(async () => {
  await teardown(env);
  if (env) expect(leftContainers(env.runId)).toBe("");
}, 60_000);

describe("chaos_engine network faults (real Docker)", () => {
  it("latency 200 ms: curl takes 200 ms more, baseline returns after recovery", async () => {
    const e = env!;
    const base = await median(5, async () => (await curlTime(e)).seconds);
    const { handle, stop } = await startChaos(e, { ...side, latency_ms: 200 });
    expect(handle.outputs.latency_mode).toMatch(/^(netem|proxy)$/);
    expect(e.log.lines.join("\n")).toMatch(/latency on 'web' through (netem|proxy)/);
    const slow = await median(5, async () => (await curlTime(e)).seconds);
    console.log(`latency: baseline ${base}s, with 200ms ${slow}s (${handle.outputs.latency_mode})`);
    // Absolute: the delay is at least 200 ms whatever the load; a difference of two medians is not
    // (a loaded machine's baseline median was 0.05 s, and its delayed one 0.22 s).
    expect(slow).toBeGreaterThan(0.2);
    expect(await leftovers(e)).toMatch(/clnrm-[0-9a-f]{6}-pre/);
    await stop();
    const after = await median(5, async () => (await curlTime(e)).seconds);
    console.log(`latency: after recovery ${after}s`);
    expect(after).toBeLessThan(base + 0.1);
    expect(await leftovers(e)).toBe("");
    expect(e.log.lines.join("\n")).toMatch(/recovered 'web'/);
    await stop(); // idempotent
  });

  it("25% packet loss: observed ping loss within 4 sigma, none after recovery", async () => {
    const e = env!;
    const n = 200;
    const ping = async () => {
      const r = await e.pinger.exec(["sh", "-c", `ping -q -n -c ${n} -i 0.01 -W 1 ${e.web.networkIp} || true`], { timeoutMs: 60_000 });
      const m = /(\d+) packets received/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      return n - Number(m![1]);
    };
    const { stop } = await startChaos(e, { ...side, packet_loss_percent: 25 });
    let lost: number;
    try {
      lost = await ping();
    } finally {
      await stop();
    }
    const sigma = Math.sqrt(n * 0.25 * 0.75);
    console.log(`loss: ${lost}/${n} lost (${((lost / n) * 100).toFixed(1)}%), expected 50 ± ${(4 * sigma).toFixed(1)}`);
    expect(Math.abs(lost - n * 0.25)).toBeLessThanOrEqual(4 * sigma);
    expect(await ping()).toBe(0);
    expect(await leftovers(e)).toBe("");
  });

  it("bandwidth cap 2048 kbit/s: 256 KiB takes >= 0.9 s, fast again after recovery", async () => {
    const e = env!;
    const base = (await curlTime(e, "/big")).seconds;
    const { stop } = await startChaos(e, { ...side, bandwidth_kbps: 2048 });
    expect(await leftovers(e)).toMatch(/tbf/);
    const capped = await curlTime(e, "/big", 20);
    await stop();
    const after = (await curlTime(e, "/big")).seconds;
    console.log(`bandwidth: 256 KiB baseline ${base}s, capped at 2048 kbit/s ${capped.seconds}s (ideal 1.02s), after ${after}s`);
    expect(capped.code).toBe(0);
    expect(capped.seconds).toBeGreaterThanOrEqual(0.9);
    expect(after).toBeLessThan(0.5);
    expect(await leftovers(e)).toBe("");
  });

  it("block_ports with a 1.5 s duration: port times out, then recovers by itself", async () => {
    const e = env!;
    const { handle, stop } = await startChaos(e, { sidecar_image: TOOLS, block_ports: [8080], duration: "1500ms" });
    const blocked = await curlTime(e, "/", 1);
    expect(blocked.code, blocked.out).toBe(28); // curl: operation timed out
    await new Promise((r) => setTimeout(r, 2_500));
    expect(handle.outputs.targets).toBe("web");
    expect((await curlTime(e)).code).toBe(0);
    expect(await leftovers(e)).toBe("");
    expect(e.log.lines.join("\n")).toMatch(/recovered 'web'/);
    await stop();
  });

  it("partition_from cuts web off from a named service, reject mode refuses at once", async () => {
    const e = env!;
    const { stop: stop2 } = await startChaos(e, { sidecar_image: TOOLS, targets: ["web"], partition_from: ["client"], block_action: "reject" }, { web: e.web, client: e.client });
    const r = await curlTime(e, "/", 3);
    expect(r.code, r.out).not.toBe(0);
    expect(r.seconds).toBeLessThan(2);
    await stop2();
    expect((await curlTime(e)).code).toBe(0);
    expect(await leftovers(e)).toBe("");
  });
});
