import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { redact, type SourceLocation } from "@clnrm/core";
import { CleanroomError } from "@clnrm/core/errors";
import type { RunEvent, TestResult } from "@clnrm/runner";
import { escapeControl, type Reporter } from "../report.js";
import type { Locator } from "./locate.js";

// GitHub Actions workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
// Escaping as @actions/core does it: the message loses %, CR and LF; a property also ':' and ','.

/** A workflow command's message. */
export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** A workflow command's property value (file=…, title=…). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** A path as GitHub shows it: relative to the checkout ($GITHUB_WORKSPACE), else to the working directory. */
function annotationPath(file: string): string {
  const abs = isAbsolute(file) ? file : resolve(file);
  const root = process.env.GITHUB_WORKSPACE || process.cwd();
  const rel = relative(root, abs);
  return (rel && !rel.startsWith("..") ? rel : abs).split("\\").join("/");
}

/** One `::error file=…,line=…,col=…,title=…::message` line (values redacted, control characters shown as text). */
export function annotation(level: "error" | "warning" | "notice", message: string, where?: SourceLocation, title?: string): string {
  const props: string[] = [];
  if (where) {
    props.push(`file=${escapeProperty(annotationPath(where.file))}`);
    if (where.line !== undefined) props.push(`line=${where.line}`);
    if (where.column !== undefined) props.push(`col=${where.column}`);
  }
  if (title) props.push(`title=${escapeProperty(escapeControl(redact(title)))}`);
  return `::${level}${props.length ? ` ${props.join(",")}` : ""}::${escapeData(escapeControl(redact(message)))}\n`;
}

const PROBLEM_LINE = /^(.+?):(\d+)(?::(\d+))?: (.*)$/;

/**
 * The annotations of an error: bad input is one error or several problems combined (the first with
 * its location, each further one on its own `file:line:col: message` line): one annotation each.
 */
export function errorAnnotations(err: unknown): string {
  if (!CleanroomError.isInstance(err)) return annotation("error", err instanceof Error ? err.message : String(err), undefined, "clnrm");
  const loc = err.location;
  const [head = "", ...rest] = err.message.split("\n");
  const items: { message: string; where: SourceLocation | undefined }[] = [{ message: head, where: loc }];
  for (const line of rest) {
    const m = loc ? PROBLEM_LINE.exec(line) : null;
    if (m && m[1] === loc?.file) {
      items.push({ message: m[4]!, where: { file: m[1]!, line: Number(m[2]), ...(m[3] ? { column: Number(m[3]) } : {}) } });
    } else {
      items.at(-1)!.message += `\n${line}`;
    }
  }
  if (err.hint && items.length === 1) items[0]!.message += ` (${err.hint})`;
  return items.map((i) => annotation("error", i.message, i.where, "clnrm: invalid test file")).join("");
}

const ms = (n: number) => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`);
/** A markdown table cell: one line, no pipe. */
const cell = (s: string) => escapeControl(redact(s)).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

/** The job summary: one row per test (result, file, services with their start times, steps, duration), then each failure. */
export function jobSummary(results: readonly TestResult[], loc: Locator): string {
  const passed = results.filter((r) => r.status === "passed").length;
  const lines = [
    `## clnrm: ${passed} passed, ${results.length - passed} failed`,
    "",
    "| | Test | File | Services | Steps | Duration |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const mark = r.status === "passed" ? "✅" : "❌";
    const services = r.services.map((s) => `${s.name} (${s.type}${s.startMs !== undefined ? `, ${ms(s.startMs)}` : ""}${s.status === "failed" || s.status === "not_started" ? `, ${s.status.replace("_", " ")}` : ""})`).join(", ");
    const ok = r.steps.filter((s) => s.status === "passed").length;
    lines.push(`| ${mark} | ${cell(r.name)} | ${cell(r.file)} | ${cell(services) || "–"} | ${ok}/${r.steps.length} | ${ms(r.durationMs)} |`);
  }
  const failures: string[] = [];
  for (const r of results) {
    if (r.error) {
      const where = loc.service(r, r.error.service);
      failures.push(`- **${cell(r.name)}** (${cell(fmtLoc(where, r.file))}): ${cell(r.error.message.split("\n")[0]!)}`);
    }
    r.steps.forEach((s, i) => {
      if (s.status !== "failed") return;
      failures.push(`- **${cell(r.name)}** step ${cell(s.name)} (${cell(fmtLoc(loc.step(r, i), r.file))}): ${cell((s.failure ?? "failed").split("\n")[0]!)}`);
    });
  }
  if (failures.length) lines.push("", "### Failures", "", ...failures);
  return `${lines.join("\n")}\n\n`;
}

const fmtLoc = (l: SourceLocation | undefined, file: string) => (l?.line !== undefined ? `${l.file}:${l.line}` : (l?.file ?? file));

/**
 * `--reporter github`: the human output, then an annotation for each failed step, expectation and
 * service at its line of the test file, and the job summary appended to $GITHUB_STEP_SUMMARY.
 * Output a step or container printed can't issue workflow commands: the run's output is inside
 * `::stop-commands::` with a random token, ended before the annotations.
 */
export class GithubReporter implements Reporter {
  readonly #human: Reporter;
  readonly #loc: Locator;
  readonly #out: NodeJS.WritableStream;
  readonly #token = randomBytes(16).toString("hex");
  #started = false;

  constructor(human: Reporter, loc: Locator, out: NodeJS.WritableStream = process.stdout) {
    this.#human = human;
    this.#loc = loc;
    this.#out = out;
  }

  onEvent(e: RunEvent): void {
    if (!this.#started) {
      this.#started = true;
      this.#out.write(`::stop-commands::${this.#token}\n`);
    }
    this.#human.onEvent(e);
  }

  finish(results: readonly TestResult[]): void {
    this.#human.finish(results);
    if (this.#started) this.#out.write(`::${this.#token}::\n`);
    for (const r of results) {
      if (r.error) {
        this.#out.write(annotation("error", r.error.message, this.#loc.service(r, r.error.service), `clnrm: ${r.name}: ${r.error.service ? `service ${r.error.service}` : "error"}`));
      }
      r.steps.forEach((s, i) => {
        if (s.status !== "failed") return;
        this.#out.write(annotation("error", s.failure ?? "failed", this.#loc.step(r, i), `clnrm: ${r.name}: ${s.name}`));
      });
      for (const l of r.leftBehind ?? []) this.#out.write(annotation("warning", `left behind: ${l}`, { file: r.file }, `clnrm: ${r.name}`));
    }
    const summary = process.env.GITHUB_STEP_SUMMARY;
    if (summary) appendFileSync(summary, jobSummary(results, this.#loc));
  }
}
