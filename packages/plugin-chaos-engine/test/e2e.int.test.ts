import { execFileSync, spawn } from "node:child_process";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildMyApi } from "./helpers.js";

const root = resolve(import.meta.dirname, "../../..");
/** Runs the cli without blocking the event loop (a blocked vitest worker misses its RPC deadlines). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn("node", [resolve(root, "packages/cli/dist/bin.js"), ...args], { cwd: root, timeout: 180_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}
const left = (filter: string) => execFileSync("docker", ["ps", "-a", "-q", "--filter", filter], { encoding: "utf8" }).trim();

interface JsonReport {
  results: {
    runId: string;
    status: string;
    services: { name: string; outputs: Record<string, unknown> }[];
    steps: { name: string; service: string; status: string; stdout: string }[];
  }[];
}

/** Runs a file with the json reporter; checks exit 0 and that nothing of the run is left. */
async function runJson(file: string): Promise<JsonReport["results"][number]> {
  const r = await cli("run", "-r", "json", file);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const result = (JSON.parse(r.stdout) as JsonReport).results[0]!;
  expect(result.status).toBe("passed");
  expect(left(`label=clnrm.run=${result.runId}`)).toBe("");
  return result;
}

/** The last line of a curl -w "%{time_total}" step: seconds. */
const seconds = (stdout: string) => Number(stdout.trim().split("\n").at(-1));

beforeAll(() => buildMyApi(), 180_000);

describe("chaos_engine end to end through the cli (real Docker)", () => {
  it("a chaos target that does not exist is a validation error with file:line:col (exit 2)", async () => {
    for (const cmd of ["validate", "run"]) {
      const r = await cli(cmd, "packages/plugin-chaos-engine/test/fixtures/missing-target.clnrm.toml");
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/missing-target\.clnrm\.toml:7:12: .*no service named 'nope'/);
    }
  });

  it("examples/latency.clnrm.toml: 200 ms latency makes the curl step take >= 0.2 s, exits 0, leaves nothing", async () => {
    const before = execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" });
    const r = await cli("run", "packages/plugin-chaos-engine/examples/latency.clnrm.toml");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/latency on 'web' through (proxy|netem)/);
    expect(r.stdout + r.stderr).toMatch(/recovered 'web'/);
    const run = /\(run ([0-9a-z-]+)\)/.exec(r.stdout + r.stderr)?.[1];
    expect(run).toBeTruthy();
    expect(left(`label=clnrm.run=${run}`)).toBe("");
    expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" })).toBe(before);
  });

  it("the spec's test-chaos-latency file as written: curl localhost inside the target takes > 0.2 s", async () => {
    const result = await runJson("packages/plugin-chaos-engine/test/fixtures/spec/test-chaos-latency.clnrm.toml");
    const step = result.steps.find((s) => s.name === "test_with_latency")!;
    const s = seconds(step.stdout);
    console.log(`spec test_with_latency: curl -w %{time_total} http://localhost:8080/api inside api took ${s}s`);
    expect(s).toBeGreaterThan(0.2);
  });

  it("the spec's chaos example table as written (no targets, a target with no TCP port): runs, warns that latency has nothing to delay, recovers", async () => {
    const r = await cli("run", "packages/plugin-chaos-engine/test/fixtures/spec/chaos-example.clnrm.toml");
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/no latency on 'api': it listens on no TCP port/);
    expect(out).toMatch(/faults on 'api': 10% packet loss \(in\), 100ms latency \((proxy|netem)\), cpu 50% x all, memory 512 MiB/);
    expect(out).toMatch(/recovered 'api'/);
    const run = /\(run ([0-9a-z-]+)\)/.exec(out)?.[1];
    expect(left(`label=clnrm.run=${run}`)).toBe("");
  });

  it("chaos without targets acts on every non-chaos service: each one's loopback and the network are slowed", async () => {
    const result = await runJson("packages/plugin-chaos-engine/test/fixtures/no-targets.clnrm.toml");
    expect(result.services.find((s) => s.name === "chaos")?.outputs.targets).toBe("api,worker");
    const times = result.steps.map((s) => ({ name: s.name, seconds: seconds(s.stdout) }));
    console.log(`no targets: ${times.map((t) => `${t.name} ${t.seconds}s`).join("; ")}`);
    expect(times).toHaveLength(3);
    for (const t of times) expect(t.seconds, t.name).toBeGreaterThan(0.2);
  });
});
