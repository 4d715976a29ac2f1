import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import type { RunningContainer } from "@clnrm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { curlTime, type Env, leftContainers, setup, startChaos, TOOLS, teardown } from "./helpers.js";

const run = promisify(execFile);
const chaosLeft = (runId: string) => execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`, "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" }).trim();
let env: Env | undefined;
let box: RunningContainer;

beforeAll(async () => {
  env = await setup();
  box = await env.backend.run({ image: TOOLS, keepAlive: true }, { runId: env.runId, service: "box", network: env.network });
}, 120_000);

afterAll(async () => {
  await teardown(env);
  if (env) expect(leftContainers(env.runId)).toBe("");
}, 60_000);

/** CPU the target's cgroup used over 1.5 s, in cores (cgroup v1 cpuacct, or v2 cpu.stat). */
async function cores(c: RunningContainer): Promise<number> {
  const read = async () => {
    const r = await c.exec(["sh", "-c", "cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || awk '/usage_usec/ {print $2 * 1000}' /sys/fs/cgroup/cpu.stat"]);
    return Number(r.stdout.trim());
  };
  const a = await read();
  const t = Date.now();
  await new Promise((r) => setTimeout(r, 1_500));
  const b = await read();
  return (b - a) / 1e6 / (Date.now() - t);
}

describe("chaos_engine stress and container faults (real Docker)", () => {
  it("cpu 50% x 1 worker runs in the target's cgroup; stress is gone after recovery", async () => {
    const e = env!;
    const base = await cores(box);
    const { stop } = await startChaos(e, { cpu: { stress_percent: 50, workers: 1 } }, { box });
    let loaded: number;
    try {
      expect(e.log.lines.join("\n")).toMatch(/stress-ng runs inside 'box'/);
      await new Promise((r) => setTimeout(r, 1_000)); // let stress-ng's workers settle
      loaded = await cores(box);
    } finally {
      await stop();
    }
    const after = await cores(box);
    console.log(`cpu: target cgroup baseline ${base.toFixed(3)} cores, stressed ${loaded.toFixed(3)}, after ${after.toFixed(3)}`);
    // 2 cores shared with other jobs: stress-ng gets what the host leaves, so assert "clearly above".
    expect(loaded).toBeGreaterThan(Math.max(3 * base, base + 0.1));
    expect(loaded).toBeLessThan(0.8);
    expect(after).toBeLessThan(0.1);
    const ps = await box.exec(["sh", "-c", "ps -eo stat,comm | grep stress-ng | grep -v '^Z' || true"]);
    expect(ps.stdout.trim()).toBe("");
  });

  it("a target without stress-ng and no stress_image fails the start with a hint and leaves nothing", async () => {
    const e = env!;
    await expect(startChaos(e, { cpu: { stress_percent: 10, workers: 1 } })).rejects.toThrow(/has no stress-ng and no stress_image/);
    expect(chaosLeft(e.runId)).toBe("");
  });

  it("kill with restart: the target is killed and started again, and answers", async () => {
    const e = env!;
    const startedAt = async () => (await run("docker", ["inspect", "-f", "{{.State.StartedAt}}", e.web.id])).stdout.trim();
    const before = await startedAt();
    const { stop } = await startChaos(e, { kill: true, restart: true });
    try {
      expect(await startedAt()).not.toBe(before);
      expect((await e.web.state()).running).toBe(true);
    } finally {
      await stop();
    }
    expect(chaosLeft(e.runId)).toBe("");
  });

  it("pause through the backend's own pause(): web stops answering, answers again after stop", async () => {
    const e = env!;
    const { stop } = await startChaos(e, { pause: true });
    try {
      expect((await e.web.state()).status).toBe("paused");
      expect((await curlTime(e, "/", 1)).code).toBe(28);
    } finally {
      await stop();
    }
    expect((await e.web.state()).status).toBe("running");
    expect((await curlTime(e)).code).toBe(0);
    expect(chaosLeft(e.runId)).toBe("");
  });
});
