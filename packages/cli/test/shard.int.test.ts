import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partition } from "../src/shard.js";
import { clnrm, leftBy, type Run } from "./helpers.js";

// Real runs of `clnrm run --shard i/n` over a generated suite: 13 files whose host step sleeps a
// known time (100 ms to 1.3 s), 2 with a tiny alpine service, 1 that fails. n = 1..5 shards run at
// once, each its own process; together they run every file exactly once, balanced by the durations
// a first run recorded; their reports merge into one with the shards' totals.
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-shard-int-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const suite = join(scratch, "suite");
const timingsFile = join(scratch, "timings.json");
const rel = (p: string) => relative(process.cwd(), p);

interface Report {
  passed: number;
  failed: number;
  shards?: { report: string; passed: number; failed: number }[];
  results: { file: string; status: string; durationMs: number }[];
}

const names: string[] = [];
beforeAll(() => {
  mkdirSync(suite, { recursive: true });
  const write = (name: string, src: string) => {
    writeFileSync(join(suite, name), src);
    names.push(rel(join(suite, name)));
  };
  for (let i = 1; i <= 13; i++) {
    write(`sleep-${String(i).padStart(2, "0")}.clnrm.toml`, `[meta]\nname = "sleep ${i}"\n\n[[steps]]\nname = "sleeps"\ncommand = ["sleep", "${(i / 10).toFixed(1)}"]\n`);
  }
  for (const i of [1, 2]) {
    write(
      `alpine-${i}.clnrm.toml`,
      `[meta]\nname = "alpine ${i}"\n\n[services.app]\ntype = "generic_container"\nimage = "alpine:latest"\n\n[[steps]]\nname = "echo"\nservice = "app"\ncommand = ["echo", "hi ${i}"]\nexpected_output_regex = "^hi ${i}$"\n`,
    );
  }
  write("fails.clnrm.toml", `[meta]\nname = "fails"\n\n[[steps]]\nname = "exits 3"\ncommand = ["sh", "-c", "exit 3"]\n`);
  names.sort();
});

const report = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Report;

/** Runs the n shards at once, each its own process; their json reports and runs. */
async function shards(n: number, extra: string[], tag: string): Promise<{ reports: Report[]; runs: Run[]; paths: string[] }> {
  const paths = Array.from({ length: n }, (_, i) => join(scratch, `${tag}-${i + 1}of${n}.json`));
  const runs = await Promise.all(paths.map((out, i) => clnrm(["run", "--shard", `${i + 1}/${n}`, ...extra, "--reporter", "json", "--output", out, suite])));
  for (const r of runs) expect(leftBy(r.pid)).toEqual([]);
  return { reports: paths.map(report), runs, paths };
}

function expectEveryFileOnce(reports: Report[]): void {
  const ran = reports.flatMap((r) => r.results.map((x) => x.file));
  expect(ran.length).toBe(names.length);
  expect([...ran].sort()).toEqual(names);
}

describe("clnrm run --shard i/n", () => {
  let recorded: Map<string, number>;

  beforeAll(async () => {
    const r = await clnrm(["run", "--jobs", "4", "--record-timings", timingsFile, suite]);
    expect(r.code, r.stderr).toBe(1); // the one failing file
    recorded = new Map(Object.entries((JSON.parse(readFileSync(timingsFile, "utf8")) as { files: Record<string, number> }).files));
    expect([...recorded.keys()].sort()).toEqual(names);
    // The sleeps are in the recorded durations: sleep-13 took at least 1.3 s, sleep-01 at least 0.1 s.
    expect(recorded.get(rel(join(suite, "sleep-13.clnrm.toml")))).toBeGreaterThanOrEqual(1300);
    expect(recorded.get(rel(join(suite, "sleep-01.clnrm.toml")))).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it.each([1, 2, 3, 4, 5])(
    "n = %i with --timings: every file exactly once, the longest shard within 20 %% of the ideal by recorded durations",
    async (n) => {
      const { reports, runs } = await shards(n, ["--timings", timingsFile], "timed");
      expectEveryFileOnce(reports);
      const loads = reports.map((r) => r.results.reduce((a, x) => a + recorded.get(x.file)!, 0));
      const sum = [...recorded.values()].reduce((a, b) => a + b, 0);
      const ideal = Math.max(sum / n, ...recorded.values());
      const wall = reports.map((r) => r.results.reduce((a, x) => a + x.durationMs, 0));
      console.log(`n=${n}: recorded loads ${loads.map((l) => Math.round(l)).join(", ")} ms (ideal ${Math.round(ideal)}); this run ${wall.map((l) => Math.round(l)).join(", ")} ms`);
      expect(Math.max(...loads)).toBeLessThanOrEqual(1.2 * ideal);
      runs.forEach((r, i) => {
        expect(r.stderr).toContain(`clnrm: shard ${i + 1}/${n}: ${reports[i]!.results.length} of ${names.length} test file(s), balanced by the durations in ${timingsFile}`);
        // Exit 1 only for the shard that got the failing file.
        expect(r.code).toBe(reports[i]!.failed > 0 ? 1 : 0);
      });
      expect(reports.reduce((a, r) => a + r.failed, 0)).toBe(1);
    },
    120_000,
  );

  it("without timings: by file count (sizes differ by at most one), every file once", async () => {
    const { reports, runs } = await shards(4, [], "count");
    expectEveryFileOnce(reports);
    const sizes = reports.map((r) => r.results.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(runs[0]!.stderr).toContain("by file count");
  }, 120_000);

  it("the split depends on the set of files, not on how they are named: reversed explicit files, same shard", async () => {
    const expected = partition(names, 3, recorded).parts[1]!;
    const out = join(scratch, "reversed.json");
    const files = [...names].reverse();
    const r = await clnrm(["run", "--shard", "2/3", "--timings", timingsFile, "--reporter", "json", "--output", out, ...files]);
    expect(leftBy(r.pid)).toEqual([]);
    expect(report(out).results.map((x) => x.file).sort()).toEqual([...expected].sort());
  }, 120_000);

  it.each(["0/3", "4/3", "x", "1/0"])("--shard %s: one line, exit 2, nothing run", async (spec) => {
    const r = await clnrm(["run", "--shard", spec, suite]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`--shard '${spec}'`);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(r.stdout).toBe("");
  });

  it("a --timings file that is not JSON: one line naming it, exit 2", async () => {
    const bad = join(scratch, "bad-timings.json");
    writeFileSync(bad, "{ files: ");
    const r = await clnrm(["run", "--shard", "1/2", "--timings", bad, suite]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`${bad}: not JSON`);
  });

  it("a --timings file that does not exist yet (the first CI run): by file count", async () => {
    const { reports, runs } = await shards(2, ["--timings", join(scratch, "not-yet.json")], "first");
    expectEveryFileOnce(reports);
    expect(runs[1]!.stderr).toContain("by file count: ");
  }, 120_000);
});

describe("clnrm merge-reports", () => {
  it("json: the shards' reports as one, with their totals; the merged report balances the next run", async () => {
    const { paths } = await shards(3, ["--timings", timingsFile], "merge");
    const out = join(scratch, "merged.json");
    const r = await clnrm(["merge-reports", "--output", out, ...paths]);
    expect(r.code, r.stderr).toBe(0);
    const merged = report(out);
    expect(merged.passed).toBe(names.length - 1);
    expect(merged.failed).toBe(1);
    expect(merged.results.map((x) => x.file)).toEqual(names);
    expect(merged.shards!.map((s) => s.report)).toEqual(paths);
    expect(merged.shards!.reduce((a, s) => a + s.passed + s.failed, 0)).toBe(names.length);
    // A merged report is a timings file: the next shard run is balanced by it.
    const next = await clnrm(["run", "--shard", "1/2", "--timings", out, "--reporter", "json", suite]);
    expect(next.stderr).toContain(`balanced by the durations in ${out}`);
  }, 180_000);

  it("junit: every suite of every shard under one <testsuites> with the summed counts", async () => {
    const xmls = [1, 2].map((i) => join(scratch, `junit-${i}of2.xml`));
    const times = [1, 2].map((i) => join(scratch, `times-${i}of2.json`));
    const runs = await Promise.all(
      xmls.map((out, i) => clnrm(["run", "--shard", `${i + 1}/2`, "--timings", timingsFile, "--record-timings", times[i]!, "--reporter", "junit", "--output", out, suite])),
    );
    for (const r of runs) expect(leftBy(r.pid)).toEqual([]);
    const out = join(scratch, "merged.xml");
    const r = await clnrm(["merge-reports", "-o", out, ...xmls]);
    expect(r.code, r.stderr).toBe(0);
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["testsuite", "testcase", "property"].includes(name) });
    type Suites = { testsuites: { tests: string; failures: string; errors: string; testsuite: { name: string; tests: string; properties: { property: { name: string; value: string }[] } }[] } };
    const shardsDocs = xmls.map((x) => parser.parse(readFileSync(x, "utf8")) as Suites);
    const doc = parser.parse(readFileSync(out, "utf8")) as Suites;
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s.properties.property.find((p) => p.name === "file")!.value)).toEqual(names);
    const sum = (k: "tests" | "failures" | "errors") => shardsDocs.reduce((a, d) => a + Number(d.testsuites[k]), 0);
    expect(Number(doc.testsuites.tests)).toBe(sum("tests"));
    expect(Number(doc.testsuites.tests)).toBe(names.length); // one step each
    expect(Number(doc.testsuites.failures)).toBe(1);
    expect(Number(doc.testsuites.failures)).toBe(sum("failures"));
    // The shards' --record-timings files merge into one timings file for the next run.
    const timesOut = join(scratch, "merged-times.json");
    const t = await clnrm(["merge-reports", "-o", timesOut, ...times]);
    expect(t.code, t.stderr).toBe(0);
    const mergedTimes = JSON.parse(readFileSync(timesOut, "utf8")) as { clnrm: string; files: Record<string, number> };
    expect(mergedTimes.clnrm).toBe("timings");
    expect(Object.keys(mergedTimes.files)).toEqual(names);
  }, 180_000);

  it("reports that overlap (the same file in two shards) or that aren't reports: one line, exit 2", async () => {
    const a = join(scratch, "merge-1of3.json");
    const twice = await clnrm(["merge-reports", a, a]);
    expect(twice.code).toBe(2);
    expect(twice.stderr.trim().split("\n")).toHaveLength(1);
    expect(twice.stderr).toContain("the shards overlap");
    const bad = join(scratch, "bad.xml");
    writeFileSync(bad, '<?xml version="1.0"?>\n<testsuites>\n  <testsuite name="x">\n</testsuites>\n');
    const broken = await clnrm(["merge-reports", bad]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4:\\d+: not well-formed XML`));
    const mixed = await clnrm(["merge-reports", a, join(scratch, "junit-1of2.xml")]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("JSON and JUnit reports mixed");
  });
});
