import { z } from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, min: 60_000, h: 3_600_000 };
const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)\s*$/;

/** Parses "500ms", "30s", "2m", "1h" (a bare number means seconds). Returns ms, or undefined. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === "number") return Number.isFinite(input) && input >= 0 ? Math.round(input * 1_000) : undefined;
  const m = DURATION_RE.exec(input);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/**
 * The longest duration a timer can wait: Node's setTimeout takes a signed 32-bit number of ms and
 * fires after 1 ms for anything larger, so a longer timeout would end a test at once.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A zod schema for a duration: "30s", "500ms", "2m", or a number of seconds, up to MAX_DURATION_MS. Output is ms. */
export const durationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `invalid duration ${JSON.stringify(v)}: use a number of seconds or a string like "500ms", "30s", "2m"` });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: "custom", message: `duration ${JSON.stringify(v)} is too long: the limit is ${MAX_DURATION_MS} ms (about 596h, 24.8 days)` });
    return z.NEVER;
  }
  return ms;
});
