/**
 * One-shot services through the built `clnrm` (../../cli/dist/bin.js, as the other plugins' e2e
 * tests), against the real Docker engine: the spec's generic example, run as written, 10 times.
 */
import { execFile, execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../cli/dist/bin.js");
const spec = join(here, "fixtures/spec/generic-example.clnrm.toml");
const oneShot = (name: string) => join(here, "fixtures/one-shot", name);

interface Run {
  code: number;
  out: string;
  ms: number;
}

function clnrm(args: string[]): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}`, ms: performance.now() - t0 });
    });
  });
}

function runIdOf(out: string): string {
  const id = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(id).toBeTruthy();
  return id!;
}

function leftBehind(runId: string): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** The service's start time as the run output reports it ("completed (exit 0) (1.16 s)"), in ms. */
function serviceMs(out: string): number {
  const m = /completed \(exit 0\) \((\d+(?:\.\d+)?) (ms|s)\)/.exec(out);
  expect(m).toBeTruthy();
  return Number(m![1]) * (m![2] === "s" ? 1_000 : 1);
}

/** The output without what changes from run to run: run id and durations. */
function normalize(out: string): string {
  return out.replace(/\(run [a-z0-9-]+\)/g, "(run ID)").replace(/\d+(\.\d+)? (ms|s)\b/g, "T");
}

describe("clnrm run: one-shot services", () => {
  it("the spec's generic example (`echo hello`, port 8080) passes 10 times out of 10 with identical output, each run timed", async () => {
    const runs: Run[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await clnrm(["run", spec]);
      runs.push(r);
      expect(leftBehind(runIdOf(r.out))).toEqual([]);
    }
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    const whole = runs.map((r) => r.ms).sort((a, b) => a - b);
    const service = runs.map((r) => serviceMs(r.out)).sort((a, b) => a - b);
    const fmt = (xs: number[]) => `min ${xs[0]!.toFixed(0)} median ${xs[5]!.toFixed(0)} max ${xs[9]!.toFixed(0)}`;
    console.log(`clnrm run generic-example: whole run ms ${fmt(whole)}; service start→completed ms ${fmt(service)}`);
    expect(runs[0]!.out).toContain("✓ service my_service completed (exit 0)");
    expect(new Set(runs.map((r) => normalize(r.out))).size).toBe(1);
    // Not the 10 s testcontainers waited for the ports of a container that had exited.
    expect(service[9]).toBeLessThan(8_000);
  }, 300_000);

  it("a service that depends on a one-shot starts after it completed; a step that targets the one-shot gets one clear line", async () => {
    const r = await clnrm(["run", oneShot("job-then-app.clnrm.toml")]);
    expect(r.code).toBe(1); // a step failed
    const lines = r.out.split("\n");
    const completed = lines.findIndex((l) => l.includes("✓ service migrate completed (exit 0)"));
    const appStarting = lines.findIndex((l) => l.includes("starting app"));
    expect(completed).toBeGreaterThanOrEqual(0);
    expect(appStarting).toBeGreaterThan(completed);
    expect(r.out).toContain("✓ step app_is_up");
    const failure = lines.find((l) => l.includes("✗ step exec_in_the_job"));
    expect(failure).toMatch(/service 'migrate' is a one-shot service that completed \(exit 0\); steps need a running service — /);
    expect(leftBehind(runIdOf(r.out))).toEqual([]);
  }, 120_000);

  it("a one-shot that exits non-zero fails the start with its exit code and last log lines, leaving nothing", async () => {
    const r = await clnrm(["run", oneShot("crash.clnrm.toml")]);
    expect(r.code).toBe(1);
    const failed = r.out.split("\n").find((l) => l.includes("✗ service job failed"));
    expect(failed).toMatch(/exited with code 3/);
    expect(failed).toMatch(/fatal: no config/);
    expect(failed).toMatch(/loading config/);
    expect(r.out).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.ms).toBeLessThan(8_000);
    expect(leftBehind(runIdOf(r.out))).toEqual([]);
  }, 120_000);
});
