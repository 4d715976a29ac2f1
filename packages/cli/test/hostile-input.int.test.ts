import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// Hostile input against the built `clnrm` binary: nothing may hang, crash or leak (issue 12).
const fixture = (name: string) => join(import.meta.dirname, "hostile-fixtures", name);

describe("user regexes run in linear time (RE2)", () => {
  it("^(a+)+$ against 40 a's and a b: stdout and stderr patterns answer at once", async () => {
    const t = performance.now();
    const r = await clnrm(["run", fixture("redos-output.clnrm.toml")]);
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("expected stdout to match /^(a+)+$/");
    expect(r.stdout).toContain("expected stderr to match /^(a+)+$/");
  }, 30_000);

  it("a log health pattern that backtracks catastrophically does not stall the start", async () => {
    const t = performance.now();
    const r = await clnrm(["run", fixture("redos-log.clnrm.toml")]);
    expect(performance.now() - t).toBeLessThan(20_000);
    expect(r.stdout + r.stderr).not.toMatch(/Error:|    at /);
    expect(r.code).toBe(0);
    expect(leftBy(r.pid)).toEqual([]);
  }, 60_000);

  it.each([
    ["regex-backref.clnrm.toml", /regex-backref\.clnrm\.toml:4:\d+.*backreferences \(\\1\) are not supported/],
    ["regex-lookahead-log.clnrm.toml", /regex-lookahead-log\.clnrm\.toml:4:\d+.*lookahead and lookbehind \(\(\?!…\)\) are not supported/],
  ])("validate rejects %s, which RE2 can't run, with its position and why", async (file, want) => {
    const r = await clnrm(["validate", fixture(file)]);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(want);
    expect(r.stderr).not.toMatch(/    at /);
  }, 30_000);

  it("--filter /regex/ uses RE2 too, and says why a pattern can't be used", async () => {
    const r = await clnrm(["run", "--filter", "/(x)\\1/", fixture("redos-output.clnrm.toml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--filter \/\(x\)\\1\/: regular expression .*backreferences/);
  }, 30_000);
});
