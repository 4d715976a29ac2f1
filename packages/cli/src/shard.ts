// Splitting a run across machines: `clnrm run --shard i/n` runs the i-th of n parts of the selected
// files. Every shard computes the same split from the same inputs (the sorted set of files and the
// same timings), so n CI jobs together run every file exactly once.
import { readFile, writeFile } from "node:fs/promises";
import { ValidationError } from "@clnrm/core";

/** `--shard 2/4`: index is 1-based. */
export interface ShardSpec {
  readonly index: number;
  readonly total: number;
}

const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** Parses `i/n` (1 ≤ i ≤ n). Anything else is bad input with one line saying what to write. */
export function parseShard(spec: string): ShardSpec {
  const m = SHARD.exec(spec);
  const index = m ? Number(m[1]) : Number.NaN;
  const total = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(total) || total < 1 || index < 1 || index > total) {
    const why = m && total >= 1 && (index < 1 || index > total) ? `the part must be between 1 and ${total}` : "expected i/n with whole numbers, 1 ≤ i ≤ n";
    throw new ValidationError(`--shard '${spec}': ${why}`, { hint: "e.g. --shard 1/4 ... --shard 4/4 in four CI jobs" });
  }
  return { index, total };
}

/** File (as reported: relative to the working directory) → milliseconds it took last time. */
export type Timings = ReadonlyMap<string, number>;

/** What `--record-timings` writes. */
export interface TimingsFile {
  readonly clnrm: "timings";
  readonly version: 1;
  readonly files: Record<string, number>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isDuration = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Reads durations from a timings file (`--record-timings`) or from a `--reporter json` report (a
 * shard's, or one `clnrm merge-reports` wrote). A file that doesn't exist is `undefined` (the first
 * CI run has none yet); one that exists but isn't either is bad input.
 */
export async function readTimings(path: string): Promise<Timings | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ValidationError(`--timings ${path}: cannot read it (${(err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${path}: not JSON: ${(err as Error).message}`, { hint: "pass a file written by --record-timings or by --reporter json" });
  }
  const out = new Map<string, number>();
  if (isObject(doc) && isObject(doc.files)) {
    for (const [file, ms] of Object.entries(doc.files)) {
      if (!isDuration(ms)) throw new ValidationError(`${path}: files["${file}"] must be a duration in milliseconds, got ${JSON.stringify(ms)}`);
      out.set(file, ms);
    }
    return out;
  }
  if (isObject(doc) && Array.isArray(doc.results)) {
    doc.results.forEach((r: unknown, i: number) => {
      if (!isObject(r) || typeof r.file !== "string" || !isDuration(r.durationMs)) {
        throw new ValidationError(`${path}: results[${i}] has no file and durationMs`, { hint: "pass a file written by --record-timings or by --reporter json" });
      }
      // A file run twice (two reports merged by hand): the longer time, the safer guess.
      out.set(r.file, Math.max(out.get(r.file) ?? 0, r.durationMs));
    });
    return out;
  }
  throw new ValidationError(`${path}: neither a timings file nor a json report (no "files" object, no "results" array)`, {
    hint: "pass a file written by --record-timings or by --reporter json",
  });
}

/** Writes the durations of this run's files to `path`, keeping the entries of other files already in it. */
export async function recordTimings(path: string, results: readonly { file: string; durationMs: number }[]): Promise<void> {
  const previous = await readTimings(path).catch(() => undefined);
  const files: Record<string, number> = {};
  const merged = new Map(previous ?? []);
  for (const r of results) merged.set(r.file, Math.round(r.durationMs));
  for (const file of [...merged.keys()].sort(byCodeUnits)) files[file] = merged.get(file)!;
  const doc: TimingsFile = { clnrm: "timings", version: 1, files };
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Locale-independent order: the same on every CI machine. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface Partition {
  /** The files of each part, longest first (as assigned), n parts. */
  readonly parts: string[][];
  /** The weight each part got: milliseconds with timings, file counts without. */
  readonly loads: number[];
  /** Whether durations were used (some file had a timing). */
  readonly byDuration: boolean;
}

/**
 * Splits files into `total` parts by greedy LPT: files sorted by weight (longest first, then by
 * path), each to the part with the least load so far (the lowest-numbered on a tie). The weight is
 * the file's recorded duration; a file without one weighs the median of the others; without any
 * timings every file weighs 1, which deals the sorted files round-robin. Duplicates and input order
 * don't matter: the result depends on the set of files and the timings alone.
 */
export function partition(files: readonly string[], total: number, timings?: Timings): Partition {
  const unique = [...new Set(files)].sort(byCodeUnits);
  const known = unique.map((f) => timings?.get(f)).filter((ms): ms is number => ms !== undefined);
  const byDuration = known.length > 0;
  const fallback = byDuration ? median(known) : 1;
  const weighted = unique.map((file) => ({ file, weight: byDuration ? (timings?.get(file) ?? fallback) : 1 }));
  weighted.sort((a, b) => b.weight - a.weight || byCodeUnits(a.file, b.file));
  const parts: string[][] = Array.from({ length: total }, () => []);
  const loads: number[] = Array.from({ length: total }, () => 0);
  for (const { file, weight } of weighted) {
    let best = 0;
    for (let i = 1; i < total; i++) if (loads[i]! < loads[best]!) best = i;
    parts[best]!.push(file);
    loads[best]! += weight;
  }
  return { parts, loads, byDuration };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
