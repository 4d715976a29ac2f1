import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseShard, partition, readTimings, recordTimings } from "../src/shard.js";

const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-shard-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A small seeded generator (mulberry32): the same synthetic suites on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const files = (n: number) => Array.from({ length: n }, (_, i) => `tests/t-${String(i).padStart(2, "0")}.clnrm.toml`);

describe("parseShard", () => {
  it.each([
    ["1/1", 1, 1],
    ["3/5", 3, 5],
    [" 2 / 4 ", 2, 4],
  ])("%s", (spec, index, total) => {
    expect(parseShard(spec)).toEqual({ index, total });
  });

  it.each(["0/3", "4/3", "1/0", "a/b", "1.5/3", "1", "-1/3", "1/3/5", ""])("refuses '%s' with one line naming --shard", (spec) => {
    expect(() => parseShard(spec)).toThrowError(/^--shard '.*': /);
    try {
      parseShard(spec);
    } catch (err) {
      expect((err as Error).message).not.toContain("\n");
    }
  });
});

describe("partition", () => {
  const rand = rng(17);

  it.each([1, 2, 3, 4, 5])("n = %i: every file in exactly one part, whatever the input order", (n) => {
    const all = files(23);
    const reference = partition(all, n).parts;
    expect(reference).toHaveLength(n);
    expect(reference.flat().sort()).toEqual([...all].sort());
    for (let k = 0; k < 5; k++) {
      // Shuffled and with duplicates (a file named twice on the command line): the same split.
      const input = shuffled([...all, ...all.slice(0, 3)], rand);
      expect(partition(input, n).parts).toEqual(reference);
    }
  });

  it.each([1, 2, 3, 4, 5])("n = %i without timings: by file count (sizes differ by at most one)", (n) => {
    const { parts, byDuration } = partition(files(23), n);
    expect(byDuration).toBe(false);
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("more parts than files: the extra parts are empty, still every file once", () => {
    const { parts } = partition(files(3), 5);
    expect(parts.map((p) => p.length)).toEqual([1, 1, 1, 0, 0]);
  });

  it.each([1, 2, 3, 4, 5])("n = %i with synthetic durations: the longest part within 20 %% of the ideal", (n) => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const all = files(40);
      // Durations like a real suite: mostly seconds, a few long ones (a model, a database image).
      const timings = new Map(all.map((f) => [f, Math.round(500 + r() * 4000 + (r() < 0.1 ? 15_000 : 0))]));
      const { parts, loads, byDuration } = partition(shuffled(all, r), n, timings);
      expect(byDuration).toBe(true);
      const sum = [...timings.values()].reduce((a, b) => a + b, 0);
      const ideal = Math.max(sum / n, ...timings.values());
      expect(Math.max(...loads)).toBeLessThanOrEqual(1.2 * ideal);
      // The loads it reports are the recorded durations of the files in each part.
      expect(parts.map((p) => p.reduce((a, f) => a + timings.get(f)!, 0))).toEqual(loads);
      expect(parts.flat().sort()).toEqual(all);
    }
  });

  it("by duration it beats by count on a skewed suite", () => {
    const all = files(8);
    // The long files are the 1st and 3rd in path order: dealt round-robin, both go to part 1.
    const timings = new Map(all.map((f, i) => [f, i === 0 || i === 2 ? 10_000 : 1_000]));
    const byCount = partition(all, 2).parts.map((p) => p.reduce((a, f) => a + timings.get(f)!, 0));
    const byTime = partition(all, 2, timings).loads;
    expect(Math.max(...byCount)).toBe(22_000);
    expect(Math.max(...byTime)).toBe(13_000);
  });

  it("a file without a timing weighs the median of the others; timings of other files are ignored", () => {
    const all = files(5);
    const timings = new Map([
      [all[0]!, 100],
      [all[1]!, 300],
      [all[2]!, 900],
      ["tests/gone.clnrm.toml", 50_000],
    ]);
    const { loads } = partition(all, 1, timings);
    expect(loads).toEqual([100 + 300 + 900 + 300 + 300]);
  });
});

describe("timings files", () => {
  it("--record-timings writes durations per file and keeps other files' entries", async () => {
    const path = join(scratch, "t.json");
    await recordTimings(path, [
      { file: "b.clnrm.toml", durationMs: 1200.4 },
      { file: "a.clnrm.toml", durationMs: 10.6 },
    ]);
    await recordTimings(path, [{ file: "b.clnrm.toml", durationMs: 900 }]);
    expect([...(await readTimings(path))!]).toEqual([
      ["a.clnrm.toml", 11],
      ["b.clnrm.toml", 900],
    ]);
  });

  it("a --reporter json report is a timings file", async () => {
    const path = join(scratch, "report.json");
    writeFileSync(path, JSON.stringify({ passed: 2, failed: 0, results: [{ file: "x.clnrm.toml", durationMs: 42 }, { file: "y.clnrm.toml", durationMs: 7 }] }));
    expect([...(await readTimings(path))!]).toEqual([
      ["x.clnrm.toml", 42],
      ["y.clnrm.toml", 7],
    ]);
  });

  it("a missing file is no timings; a bad one is bad input, one line with the file", async () => {
    expect(await readTimings(join(scratch, "none.json"))).toBeUndefined();
    const bad = join(scratch, "bad.json");
    writeFileSync(bad, "{ nope");
    await expect(readTimings(bad)).rejects.toThrowError(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not JSON`));
    writeFileSync(bad, JSON.stringify({ files: { "a.clnrm.toml": "slow" } }));
    await expect(readTimings(bad)).rejects.toThrowError(/files\["a.clnrm.toml"\] must be a duration in milliseconds/);
    writeFileSync(bad, JSON.stringify([1, 2]));
    await expect(readTimings(bad)).rejects.toThrowError(/neither a timings file nor a json report/);
  });
});
