// `clnrm merge-reports`: the reports of the shards of one run (`--shard i/n`) as one report, with
// the shards' totals. JSON reports merge into a JSON report (usable as `--timings` next time), JUnit
// reports into one JUnit report. A test file that two shards both ran means the shards did not
// split the same way (different files or different --timings): that is refused, not double-counted.
import { readFile, writeFile } from "node:fs/promises";
import { ValidationError } from "@clnrm/core";
import { byCodeUnits } from "../shard.js";

export interface MergeReportsOptions {
  output?: string;
}

interface JsonReport {
  passed: number;
  failed: number;
  results: { file: string; name?: string; status?: string }[];
}

type XmlNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const HINT = "pass the reports the shards wrote with --reporter json --output FILE, or --reporter junit --output FILE";

export async function mergeReportsCommand(paths: readonly string[], opts: MergeReportsOptions): Promise<number> {
  const inputs = await Promise.all(paths.map(async (path) => ({ path, text: await read(path) })));
  const kinds = new Set(inputs.map(({ path, text }) => kindOf(path, text)));
  if (kinds.size > 1) throw new ValidationError("these are JSON and JUnit reports mixed: merge each kind on its own", { hint: "clnrm merge-reports -o all.json shard-*.json; clnrm merge-reports -o all.xml shard-*.xml" });
  const merged = kinds.has("json") ? mergeJson(inputs) : await mergeJunit(inputs);
  if (opts.output) await writeFile(opts.output, merged);
  else process.stdout.write(merged);
  return 0;
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(code === "ENOENT" ? `no such report: ${path}` : `cannot read ${path}: ${(err as Error).message}`, { hint: HINT });
  }
}

function kindOf(path: string, text: string): "json" | "junit" {
  const start = text.trimStart()[0];
  if (start === "{") return "json";
  if (start === "<") return "junit";
  throw new ValidationError(`${path}: neither a JSON report nor a JUnit XML report`, { hint: HINT });
}

function mergeJson(inputs: readonly { path: string; text: string }[]): string {
  const docs = inputs.map(({ path, text }) => {
    try {
      return { path, doc: JSON.parse(text) as unknown };
    } catch (err) {
      throw new ValidationError(`${path}: not JSON: ${(err as Error).message}`, { hint: HINT });
    }
  });
  const isTimings = (doc: unknown) => typeof doc === "object" && doc !== null && (doc as { clnrm?: unknown }).clnrm === "timings";
  const timings = docs.filter((d) => isTimings(d.doc)).length;
  if (timings === docs.length) return mergeTimings(docs);
  if (timings > 0) throw new ValidationError("these are json reports and timings files mixed: merge each kind on its own", { hint: HINT });
  const seen = new Map<string, string>();
  const results: JsonReport["results"] = [];
  const shards: { report: string; passed: number; failed: number }[] = [];
  for (const { path, doc } of docs) {
    const report = doc as Partial<JsonReport>;
    if (typeof report !== "object" || report === null || typeof report.passed !== "number" || typeof report.failed !== "number" || !Array.isArray(report.results)) {
      throw new ValidationError(`${path}: not a clnrm json report (it needs passed, failed and results)`, { hint: HINT });
    }
    report.results.forEach((r, i) => {
      if (typeof r?.file !== "string") throw new ValidationError(`${path}: results[${i}] has no file`, { hint: HINT });
      overlap(seen, r.file, path);
      results.push(r);
    });
    shards.push({ report: path, passed: report.passed, failed: report.failed });
  }
  results.sort((a, b) => byCodeUnits(a.file, b.file));
  const passed = shards.reduce((n, s) => n + s.passed, 0);
  const failed = shards.reduce((n, s) => n + s.failed, 0);
  return `${JSON.stringify({ passed, failed, shards, results }, null, 2)}\n`;
}

/**
 * The shards' --record-timings files as one (for --timings next time). A file in two of them is no
 * error here (a --record-timings file keeps older entries): the later file's duration wins.
 */
function mergeTimings(docs: readonly { path: string; doc: unknown }[]): string {
  const files: Record<string, number> = {};
  for (const { path, doc } of docs) {
    const entries = (doc as { files?: unknown }).files;
    if (typeof entries !== "object" || entries === null) throw new ValidationError(`${path}: a timings file without "files"`, { hint: HINT });
    for (const [file, ms] of Object.entries(entries)) {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) throw new ValidationError(`${path}: files["${file}"] must be a duration in milliseconds`, { hint: HINT });
      files[file] = ms;
    }
  }
  const sorted = Object.fromEntries(Object.keys(files).sort(byCodeUnits).map((f) => [f, files[f]!]));
  return `${JSON.stringify({ clnrm: "timings", version: 1, files: sorted }, null, 2)}\n`;
}

function overlap(seen: Map<string, string>, file: string, path: string): void {
  const other = seen.get(file);
  if (other !== undefined) {
    throw new ValidationError(`${file} is in both ${other} and ${path}: the shards overlap`, {
      hint: "every shard must see the same files and the same --timings file (restore it before the matrix, or not at all)",
    });
  }
  seen.set(file, path);
}

const TOTALS = ["tests", "failures", "errors", "skipped"] as const;

/** JUnit: every <testsuite> of every report under one <testsuites>, its counts and time the sums. */
async function mergeJunit(inputs: readonly { path: string; text: string }[]): Promise<string> {
  const { XMLBuilder, XMLParser, XMLValidator } = await import("fast-xml-parser");
  // Order, attributes, CDATA, comments and whitespace kept as they were: the suites are moved, not rewritten.
  const options = {
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    cdataPropName: "#cdata",
    commentPropName: "#comment",
  };
  const parser = new XMLParser(options);
  const seen = new Map<string, string>();
  const found: { file: string | undefined; suite: XmlNode }[] = [];
  const sums = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  let rootAttrs: Record<string, string> | undefined;
  for (const { path, text } of inputs) {
    const valid = XMLValidator.validate(text);
    if (valid !== true) throw new ValidationError(`${path}:${valid.err.line}:${valid.err.col}: not well-formed XML: ${valid.err.msg}`, { hint: HINT });
    const nodes = parser.parse(text) as XmlNode[];
    const root = nodes.find((n) => "testsuites" in n || "testsuite" in n);
    if (!root) throw new ValidationError(`${path}: not a JUnit report (no <testsuites> or <testsuite>)`, { hint: HINT });
    rootAttrs ??= root[":@"];
    const children = "testsuites" in root ? (root.testsuites as XmlNode[]) : [root];
    for (const child of children) {
      // Text between suites is layout: each suite goes on a line of its own below.
      if (!("testsuite" in child)) continue;
      const attrs = child[":@"] ?? {};
      const file = suiteFile(child) ?? attrs.file;
      if (file !== undefined) overlap(seen, file, path);
      for (const k of TOTALS) sums[k] += count(attrs[k], `${path}: <testsuite ${k}>`);
      sums.time += count(attrs.time, `${path}: <testsuite time>`);
      found.push({ file, suite: child });
    }
  }
  const attrs: Record<string, string> = { ...rootAttrs };
  for (const k of TOTALS) attrs[k] = String(sums[k]);
  attrs.time = String(Math.round(sums.time * 1000) / 1000);
  // By file, as in the JSON merge (suites without a file keep their order, after the others).
  const ordered = found.map((f, i) => ({ ...f, i })).sort((a, b) => (a.file === undefined || b.file === undefined ? Number(a.file === undefined) - Number(b.file === undefined) || a.i - b.i : byCodeUnits(a.file, b.file)));
  const suites: unknown[] = ordered.flatMap((f) => [{ "#text": "\n  " }, f.suite]);
  if (suites.length > 0) suites.push({ "#text": "\n" });
  const body = new XMLBuilder({ ...options, suppressEmptyNode: true }).build([{ testsuites: suites, ":@": attrs }]) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

/** The `file` property clnrm writes on each suite (other tools put a `file` attribute, handled by the caller). */
function suiteFile(suite: XmlNode): string | undefined {
  for (const c of suite.testsuite as XmlNode[]) {
    if (!("properties" in c)) continue;
    for (const p of c.properties as XmlNode[]) if ("property" in p && p[":@"]?.name === "file") return p[":@"].value;
  }
  return undefined;
}

function count(value: string | undefined, where: string): number {
  if (value === undefined || value === "") return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ValidationError(`${where} is '${value}', not a number`, { hint: HINT });
  return n;
}
