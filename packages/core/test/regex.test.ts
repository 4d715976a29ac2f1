import { describe, expect, it } from "vitest";
import { compileUserRegex, UserRegex, userRegexError } from "../src/regex.js";

describe("user regexes (RE2)", () => {
  it("matches a catastrophic-backtracking pattern in linear time", () => {
    const re = compileUserRegex("^(a+)+$", "step", "m");
    const t = performance.now();
    expect(re.test(`${"a".repeat(40)}b`)).toBe(false);
    expect(re.test(`x\n${"a".repeat(40)}`)).toBe(true);
    expect(performance.now() - t).toBeLessThan(500);
  });

  it("is a RegExp with the user's source, and counts matches", () => {
    const re = new UserRegex("ready");
    expect(re).toBeInstanceOf(RegExp);
    expect(re.source).toBe("ready");
    expect(String(re)).toBe("/ready/");
    expect(re.count("ready\nnot ready\nready")).toBe(3);
    expect("x ready".match(re)?.[0]).toBe("ready");
  });

  it("applies i, m and s flags and refuses others", () => {
    expect(compileUserRegex("ABC", undefined, "i").test("abc")).toBe(true);
    expect(compileUserRegex("^b", undefined, "").test("a\nb")).toBe(false);
    expect(compileUserRegex("a.b", undefined, "s").test("a\nb")).toBe(true);
    expect(userRegexError("a", "y")).toMatch(/unsupported regular expression flag 'y'/);
  });

  it("names backreferences and lookaround, which RE2 cannot run", () => {
    expect(userRegexError("(a)\\1")).toMatch(/backreferences \(\\1\) are not supported: clnrm matches with RE2/);
    expect(userRegexError("(?<n>a)\\k<n>")).toMatch(/backreferences/);
    expect(userRegexError("a(?=b)")).toMatch(/lookahead and lookbehind \(\(\?=…\)\)/);
    expect(userRegexError("(?<!a)b")).toMatch(/lookahead and lookbehind \(\(\?<!…\)\)/);
    expect(userRegexError("\\(?=x\\)")).toBeUndefined();
    expect(userRegexError("[")).toMatch(/invalid regular expression "\[": missing closing \]$/);
    expect(() => compileUserRegex("(a)\\1", "steps[0]")).toThrow(/^steps\[0\]: regular expression/);
  });

  it("accepts JavaScript spellings RE2 lacks (\\u, named groups)", () => {
    expect(compileUserRegex("\\u0041(?<n>b)").test("Ab")).toBe(true);
  });
});
