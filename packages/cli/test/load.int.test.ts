import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs helper shared with bench/suite.bench.mjs
import { writeSuite } from "../../../bench/suite-files.mjs";

// Load: 40 generated files at --jobs 4, twice. All pass, nothing is left, no host port is handed
// out twice within a run, and the CLI's peak RSS does not grow with the number of files.
const bin = join(import.meta.dirname, "../dist/bin.js");
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-load-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const suite40 = (writeSuite as (dir: string, n: number) => string)(join(scratch, "forty"), 40);
const suite10 = (writeSuite as (dir: string, n: number) => string)(join(scratch, "ten"), 10);

interface Report {
  passed: number;
  failed: number;
  results: { runId: string; status: string; services: { outputs: Record<string, unknown> }[] }[];
}

/** Runs the CLI under /usr/bin/time: the JSON report, the exit code, the peak RSS in KiB, the wall time. */
function run(dir: string): Promise<{ code: number | null; report: Report; rssKb: number; ms: number; pid: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/time", ["-f", "RSS_KB=%M", process.execPath, bin, "run", "--jobs", "4", "--reporter", "json", dir], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", (code) => {
      const rss = /RSS_KB=(\d+)/.exec(stderr);
      resolve({ code, report: JSON.parse(stdout) as Report, rssKb: rss ? Number(rss[1]) : Number.NaN, ms: performance.now() - t0, pid: child.pid! });
    });
  });
}

function leftByRuns(runIds: string[]): string[] {
  const out: string[] = [];
  for (const id of runIds) {
    const f = ["--filter", `label=clnrm.run=${id}`];
    out.push(...execFileSync("docker", ["ps", "-aq", ...f], { encoding: "utf8" }).split("\n").filter(Boolean));
    out.push(...execFileSync("docker", ["network", "ls", "-q", ...f], { encoding: "utf8" }).split("\n").filter(Boolean));
  }
  return out;
}

describe("load: 40 files at --jobs 4", () => {
  const peaks: number[] = [];

  it.each([1, 2])("round %i: all pass, nothing left, distinct host ports", async (round) => {
    const r = await run(suite40);
    console.log(`40 files, round ${round}: ${(r.ms / 1000).toFixed(1)} s, peak RSS ${(r.rssKb / 1024).toFixed(0)} MiB`);
    expect(r.code).toBe(0);
    expect(r.report.passed).toBe(40);
    expect(r.report.results.every((x) => x.status === "passed")).toBe(true);
    expect(leftByRuns(r.report.results.map((x) => x.runId))).toEqual([]);
    const ports = r.report.results.flatMap((x) => x.services.flatMap((s) => Object.entries(s.outputs).filter(([k]) => k === "port" || k.startsWith("port_")).map(([, v]) => v)));
    const distinct = new Set(r.report.results.flatMap((x) => x.services.map((s) => s.outputs.port)).filter((p) => p !== undefined));
    expect(distinct.size).toBe(10); // one web service in every fourth file
    expect(ports.length).toBe(20); // port and port_8080 for each
    peaks.push(r.rssKb);
  }, 180_000);

  it("peak RSS of the 40-file run is below 1.5 × the 10-file run's", async () => {
    const r = await run(suite10);
    expect(r.code).toBe(0);
    expect(r.report.passed).toBe(10);
    const forty = Math.max(...peaks);
    console.log(`peak RSS: 10 files ${(r.rssKb / 1024).toFixed(0)} MiB, 40 files ${(forty / 1024).toFixed(0)} MiB (×${(forty / r.rssKb).toFixed(2)})`);
    expect(peaks.length).toBe(2);
    expect(forty).toBeLessThan(1.5 * r.rssKb);
  }, 120_000);
});
