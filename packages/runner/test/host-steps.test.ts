import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { execOnHost } from "../src/steps.js";

const run = promisify(execFile);

/** Pids of live processes whose command line contains `pattern`. */
async function pgrep(pattern: string): Promise<string[]> {
  try {
    const { stdout } = await run("pgrep", ["-f", pattern]);
    return stdout.trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function settle(pattern: string): Promise<string[]> {
  // A killed process may take a moment to be reaped.
  for (let i = 0; i < 20; i++) {
    const left = await pgrep(pattern);
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pgrep(pattern);
}

describe("host steps run in their own process group", () => {
  afterAll(async () => {
    await run("pkill", ["-f", "sleep 10000[0-9]"]).catch(() => {});
  });

  it("a child that keeps stdout open does not outlast the timeout", async () => {
    const t0 = performance.now();
    const r = await execOnHost(["sh", "-c", "sleep 100001 & sleep 100002"], { timeoutMs: 3_000 });
    const ms = performance.now() - t0;
    expect(r.exitCode).toBe(124);
    expect(r.stderr).toContain("timed out after 3 s");
    expect(ms).toBeLessThan(5_000);
    expect(await settle("sleep 10000[12]")).toEqual([]);
  }, 15_000);

  it("a background child is killed when the command ends, and the step ends at once", async () => {
    const t0 = performance.now();
    const r = await execOnHost(["sh", "-c", "sleep 100004 & echo started"], { timeoutMs: 10_000 });
    const ms = performance.now() - t0;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("started\n");
    expect(ms).toBeLessThan(2_000);
    expect(await settle("sleep 100004")).toEqual([]);
  }, 15_000);

  it("nohup does not let a child outlive the step", async () => {
    const r = await execOnHost(["sh", "-c", "nohup sleep 100005 >/dev/null 2>&1 & echo ok"], { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(await settle("sleep 100005")).toEqual([]);
  }, 15_000);

  it("an abort (SIGINT/SIGTERM of clnrm) kills the whole group at once", async () => {
    const controller = new AbortController();
    const t0 = performance.now();
    setTimeout(() => controller.abort(), 500);
    const r = await execOnHost(["sh", "-c", "sleep 100006 & sleep 100007"], { timeoutMs: 60_000, signal: controller.signal });
    expect(performance.now() - t0).toBeLessThan(2_500);
    expect(r.exitCode).toBe(130);
    expect(await settle("sleep 10000[67]")).toEqual([]);
  }, 15_000);

  it("a process that leaves the group and holds the pipes is not waited for", async () => {
    const t0 = performance.now();
    const r = await execOnHost(["sh", "-c", "setsid sleep 100008 & echo hi"], { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("hi");
    expect(performance.now() - t0).toBeLessThan(2_000);
  }, 15_000);

  it("a missing command is exit 127 with a line naming it", async () => {
    const r = await execOnHost(["no-such-command-xyz"], { timeoutMs: 5_000 });
    expect(r.exitCode).toBe(127);
    expect(r.stderr).toContain("no-such-command-xyz: command not found");
  });
});
