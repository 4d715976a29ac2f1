import { describe, expect, it } from "vitest";
import { durationSchema, MAX_DURATION_MS, parseDuration } from "../src/duration.js";

describe("durationSchema", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["2m", 120_000],
    ["2min", 120_000],
    ["1h", 3_600_000],
    ["1.5s", 1_500],
    [" 10 s ", 10_000],
    [5, 5_000],
    [0.25, 250],
    [0, 0],
  ] as const)("parses %j as %d ms", (input, ms) => {
    expect(durationSchema.parse(input)).toBe(ms);
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(["5 parsecs", "abc", "", "-5s", "5d", "s"])("rejects %j with a helpful message", (input) => {
    expect(parseDuration(input)).toBeUndefined();
    const r = durationSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(`invalid duration ${JSON.stringify(input)}: use a number of seconds or a string like "500ms", "30s", "2m"`);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects the number %d", (n) => {
    expect(parseDuration(n)).toBeUndefined();
    expect(durationSchema.safeParse(n).success).toBe(false);
  });

  it("rejects other types", () => {
    expect(durationSchema.safeParse(true).success).toBe(false);
    expect(durationSchema.safeParse(null).success).toBe(false);
  });

  // setTimeout fires after 1 ms for anything past 2^31-1 ms: such a timeout would end a test at once.
  it.each(["600h", "596.6h", 2_147_484, "2147483648ms", "35791395min", 1e300])("rejects %j as longer than a timer can wait", (input) => {
    expect(durationSchema.safeParse(input).error?.issues[0]?.message).toBe(
      `duration ${JSON.stringify(input)} is too long: the limit is 2147483647 ms (about 596h, 24.8 days)`,
    );
  });

  it.each(["2147483647ms", "596h", 2_147_483, "24h"])("accepts %j, within the limit", (input) => {
    expect(durationSchema.parse(input)).toBeLessThanOrEqual(MAX_DURATION_MS);
  });
});
