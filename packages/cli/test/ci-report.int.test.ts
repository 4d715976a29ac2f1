import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseJunit, type TestCase } from "junit2json";
import { afterAll, describe, expect, it } from "vitest";
import { escapeData, escapeProperty } from "../src/reporters/github.js";
import { clnrm, leftBy } from "./helpers.js";

// CI output against real runs: `--reporter github` annotations (parsed back as GitHub's runner reads
// them) at the failing expectation's line, the job summary, bad input's lines; and the JUnit report
// read by a JUnit consumer (junit2json), not by string matching.
const cliDir = join(import.meta.dirname, "..");
const fixtures = join(import.meta.dirname, "ci-fixtures");
const fails = join(fixtures, "fails.clnrm.toml");
const passes = join(fixtures, "passes.clnrm.toml");
const serviceFails = join(fixtures, "service-fails.clnrm.toml");
const bad = join(import.meta.dirname, "ci-bad", "bad.clnrm.toml");
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-ci-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Annotation {
  level: string;
  props: Record<string, string>;
  message: string;
}
/** The reverse of GitHub's escaping (as the runner reads a workflow command). */
const unescapeGithub = (s: string) => s.replace(/%3A/g, ":").replace(/%2C/g, ",").replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
/** Workflow commands GitHub would act on: those outside a ::stop-commands:: block. */
function annotations(stdout: string): Annotation[] {
  const out: Annotation[] = [];
  let stopped: string | undefined;
  for (const line of stdout.split("\n")) {
    const t = line.trimStart();
    if (stopped) {
      if (t === `::${stopped}::`) stopped = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(t);
    if (stop) {
      stopped = stop[1]!;
      continue;
    }
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(t);
    if (!m) continue;
    const props = Object.fromEntries((m[2] ?? "").split(",").filter(Boolean).map((p) => [p.slice(0, p.indexOf("=")), unescapeGithub(p.slice(p.indexOf("=") + 1))]));
    out.push({ level: m[1]!, props, message: unescapeGithub(m[3]!) });
  }
  return out;
}
const lineOf = (file: string, text: string) => readFileSync(file, "utf8").split("\n").findIndex((l) => l.startsWith(text)) + 1;
const rel = (f: string) => relative(cliDir, f);

describe("GitHub workflow command escaping", () => {
  it("escapes %, CR and LF in a message, and also : and , in a property", () => {
    expect(escapeData("100%\r\nnext: a,b")).toBe("100%25%0D%0Anext: a,b");
    expect(escapeProperty("C:\\x,y%\n")).toBe("C%3A\\x%2Cy%25%0A");
    expect(unescapeGithub(escapeProperty("a:b,c%d\r\ne"))).toBe("a:b,c%d\r\ne");
  });
});

describe("clnrm run --reporter github", () => {
  it("annotates the failing expectation's line, keeps container output from issuing commands, writes the job summary", async () => {
    const summary = join(scratch, "summary.md");
    const xml = join(scratch, "github.xml");
    const r = await clnrm(["run", fails, passes, "--reporter", "github", "-o", xml, "-j", "1"], { env: { GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: cliDir } });
    expect(r.code, r.stderr).toBe(1);
    const found = annotations(r.stdout);
    // Exactly one: the container's "::error::injected" line is inside the stop-commands block.
    expect(found).toHaveLength(1);
    const [a] = found;
    expect(a!.level).toBe("error");
    expect(a!.props.file).toBe(rel(fails));
    expect(Number(a!.props.line)).toBe(lineOf(fails, "expected_output_regex"));
    expect(a!.props.col).toBe("1");
    expect(a!.props.title).toBe("clnrm: ci: expectation fails: prints");
    expect(a!.message).toMatch(/^expected stdout to match \/\^never printed\$\/\n/);
    expect(a!.message).toContain("100% done, a:b");
    // The human output is there too (inside the block).
    expect(r.stdout).toContain("✗ step prints");
    expect(r.stdout).toContain("1 passed, 1 failed");

    const md = readFileSync(summary, "utf8");
    expect(md).toContain("## clnrm: 1 passed, 1 failed");
    expect(md).toMatch(/\| ❌ \| ci: expectation fails \| test\/ci-fixtures\/fails\.clnrm\.toml \| app \(generic_container, [\d.]+ m?s\) \| 0\/2 \| [\d.]+ m?s \|/);
    expect(md).toMatch(/\| ✅ \| ci: passes \| test\/ci-fixtures\/passes\.clnrm\.toml \| app \(generic_container, [\d.]+ m?s\) \| 1\/1 \|/);
    expect(md).toContain(`step prints (test/ci-fixtures/fails.clnrm.toml:${lineOf(fails, "expected_output_regex")})`);
    expect(leftBy(r.pid)).toEqual([]);

    // Appended, as GitHub expects of $GITHUB_STEP_SUMMARY: a second run adds its own section.
    const again = await clnrm(["run", passes, "--reporter", "github"], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(again.code, again.stderr).toBe(0);
    expect(annotations(again.stdout)).toEqual([]);
    const both = readFileSync(summary, "utf8");
    expect(both.startsWith(md)).toBe(true);
    expect(both.slice(md.length)).toContain("## clnrm: 1 passed, 0 failed");
  });

  it("annotates a service that failed at its [services.NAME] table; JUnit has it as an error at that line", async () => {
    const xml = join(scratch, "service.xml");
    const r = await clnrm(["run", serviceFails, "--reporter", "github", "-o", xml], { env: { GITHUB_WORKSPACE: cliDir } });
    expect(r.code, r.stderr).toBe(1);
    const found = annotations(r.stdout);
    expect(found).toHaveLength(1);
    expect(found[0]!.props).toMatchObject({ file: rel(serviceFails), line: String(lineOf(serviceFails, "[services.db]")), title: "clnrm: ci: service fails: service db" });
    expect(found[0]!.message).toContain("container exited with code 3");
    const report = await parseJunit(readFileSync(xml, "utf8"));
    const tc = (report as { testsuite?: { testcase?: (TestCase & { file?: string; line?: number })[] }[] }).testsuite![0]!.testcase![0]!;
    expect(tc.name).toBe("services");
    expect(tc.line).toBe(lineOf(serviceFails, "[services.db]"));
    expect(tc.error?.[0]?.message).toContain("container exited with code 3");
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("annotates a span expectation that failed at its [[expect.spans]] entry", async () => {
    const spans = join(import.meta.dirname, "span-sink-fixtures", "clnrm-spans-missing.clnrm.toml");
    const r = await clnrm(["run", spans, "--reporter", "github"], { env: { GITHUB_WORKSPACE: cliDir } });
    expect(r.code, r.stderr).toBe(1);
    const found = annotations(r.stdout);
    expect(found).toHaveLength(1);
    expect(found[0]!.props.file).toBe(rel(spans));
    expect(found[0]!.props.line).toBe(String(lineOf(spans, "[[expect.spans]]")));
    expect(found[0]!.message).toMatch(/^expected 1 span "clnrm.step"/);
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("annotates each problem of bad input at its line and column, exits 2, starts nothing", async () => {
    const r = await clnrm(["run", bad, "--reporter", "github"], { env: { GITHUB_WORKSPACE: cliDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const found = annotations(r.stdout);
    expect(found.map((a) => [a.props.file, a.props.line, a.props.col, a.message])).toEqual([
      [rel(bad), String(lineOf(bad, "comand")), "1", "steps[0].comand: unknown key 'comand' (did you mean 'command'?)"],
      [rel(bad), String(lineOf(bad, "servce")), "1", "steps[1].servce: unknown key 'servce' (did you mean 'service'?)"],
    ]);
    expect(leftBy(r.pid)).toEqual([]);
  });
});

describe("clnrm validate --reporter github", () => {
  it("annotates each problem at its line and column, as run does, and exits 2", async () => {
    const r = await clnrm(["validate", bad, "--reporter", "github"], { env: { GITHUB_WORKSPACE: cliDir } });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(annotations(r.stdout).map((a) => [a.props.file, a.props.line, a.props.col, a.message])).toEqual([
      [rel(bad), String(lineOf(bad, "comand")), "1", "steps[0].comand: unknown key 'comand' (did you mean 'command'?)"],
      [rel(bad), String(lineOf(bad, "servce")), "1", "steps[1].servce: unknown key 'servce' (did you mean 'service'?)"],
    ]);
    // Without the reporter: the human lines only, no workflow commands.
    const human = await clnrm(["validate", bad]);
    expect(human.code).toBe(2);
    expect(human.stdout).not.toContain("::error");
  });
});

describe("clnrm run --reporter junit", () => {
  it("each testcase carries file and line; a failure carries the message and the step's output tail", async () => {
    const xml = join(scratch, "junit.xml");
    const r = await clnrm(["run", fails, "--reporter", "junit", "-o", xml]);
    expect(r.code, r.stderr).toBe(1);
    const report = await parseJunit(readFileSync(xml, "utf8"));
    const suites = (report as { testsuite?: { name?: string; testcase?: (TestCase & { file?: string; line?: number })[] }[] }).testsuite ?? [];
    expect(suites.map((s) => s.name)).toEqual(["ci: expectation fails"]);
    const [failed, skipped] = suites[0]!.testcase!;
    expect(failed!.name).toBe("prints");
    expect(failed!.file).toBe(rel(fails));
    expect(failed!.line).toBe(lineOf(fails, "expected_output_regex"));
    expect(failed!.failure?.[0]?.message).toBe("expected stdout to match /^never printed$/");
    expect(failed!.failure?.[0]?.inner).toContain("100% done, a:b");
    expect(failed!["system-out"]?.[0]).toBe("first line\n::error::injected by a container\n100% done, a:b");
    expect(skipped!.name).toBe("skipped after");
    expect(skipped!.line).toBe(lineOf(fails, 'name = "skipped after"') - 1);
    expect(skipped!.skipped).toBeDefined();
    expect(leftBy(r.pid)).toEqual([]);
  });
});
