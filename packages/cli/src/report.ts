import { redact, redactDeep, type SourceLocation } from "@clnrm/core";
import type { RunEvent, TestResult } from "@clnrm/runner";
import { createRequire } from "node:module";
import type { Builder } from "junit-report-builder";
import pc from "picocolors";
import type { Locator } from "./reporters/locate.js";

export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Called once after every test ran. */
  finish(results: readonly TestResult[]): void;
}

/**
 * Control characters as visible text (`\x1b`, `\r`, `\x9b`): C0 but newline and tab, DEL and C1,
 * so that output a step or a service printed can't set the terminal title, clear the screen, move
 * the cursor or overwrite a line with a forged "✓ passed". Every escape sequence starts with one of
 * them (ESC or a C1 introducer), so none survives.
 */
const CONTROL = /(?![\n\t])\p{Cc}/gu;
const NAMED: Record<string, string> = { "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0" };
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
/** Redacted, then escaped: a value that came from a file, a plugin, a container or a step. */
const u = (value: unknown): string => escapeControl(redact(String(value)));

const ms = (n: number) => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`);

/** Line-oriented human output: services starting, steps passing, failures with what was expected and seen. */
export class HumanReporter implements Reporter {
  readonly #out: NodeJS.WritableStream;
  readonly #verbose: boolean;
  readonly #multi: boolean;

  constructor(options: { out?: NodeJS.WritableStream; verbose?: boolean; multi?: boolean } = {}) {
    this.#out = options.out ?? process.stdout;
    this.#verbose = options.verbose ?? false;
    this.#multi = options.multi ?? false;
  }

  #line(test: string, text: string): void {
    // Redacted again as a whole: a secret that spans two values is still caught.
    this.#out.write(redact(`${this.#multi ? pc.dim(`[${u(test)}] `) : ""}${text}\n`));
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case "test:start":
        this.#line(e.test, `${pc.bold("▶")} ${pc.bold(u(e.test))} ${pc.dim(`(run ${u(e.runId)})`)}`);
        break;
      case "service:starting":
        this.#line(e.test, pc.dim(`  … starting ${u(e.service)} (${u(e.plugin)})`));
        break;
      case "service:progress":
        this.#line(e.test, pc.dim(`  … ${u(e.service)}: ${u(e.message)}`));
        break;
      case "service:ready": {
        const state = e.completed ? `completed (exit ${e.completed.exitCode})` : "ready";
        this.#line(e.test, `  ${pc.green("✓")} service ${u(e.service)} ${state} ${pc.dim(`(${ms(e.durationMs)})`)}`);
        for (const n of e.notices) this.#line(e.test, `      ${n.startsWith("privileged") || n.startsWith("added cap") ? pc.yellow(u(n)) : pc.dim(u(n))}`);
        if (this.#verbose) {
          for (const [k, v] of Object.entries(e.outputs)) this.#line(e.test, pc.dim(`      ${u(k)} = ${u(v)}`));
        }
        break;
      }
      case "service:failed":
        this.#line(e.test, `  ${pc.red("✗")} service ${u(e.service)} failed: ${u(e.error.format())}`);
        break;
      case "services:ready":
        // What decided when the services were ready: each service starts once its dependencies are.
        if (this.#verbose && e.criticalPath.length) {
          const path = e.criticalPath.map((p) => `${u(p.service)} ${ms(p.startMs)}–${ms(p.readyMs)}`).join(" → ");
          this.#line(e.test, pc.dim(`  critical path: ${path} (services ready in ${ms(e.durationMs)})`));
        }
        break;
      case "step:start":
        if (this.#verbose) this.#line(e.test, pc.dim(`  … step ${u(e.step)}${e.service ? ` in ${u(e.service)}` : " on host"}`));
        break;
      case "step:end": {
        const r = e.result;
        if (r.status === "passed") {
          this.#line(e.test, `  ${pc.green("✓")} step ${u(r.name)} ${pc.dim(`(${ms(r.durationMs)}${r.attempts > 1 ? `, ${r.attempts} attempts` : ""})`)}`);
          if (this.#verbose && r.stdout.trim()) this.#line(e.test, pc.dim(u(r.stdout.trimEnd()).replace(/^/gm, "      ")));
        } else {
          this.#line(e.test, `  ${pc.red("✗")} step ${u(r.name)}: ${u(r.failure ?? "failed")}`.trimEnd());
        }
        break;
      }
      case "teardown":
        if (this.#verbose) this.#line(e.test, pc.dim(`  teardown ${ms(e.durationMs)}`));
        for (const l of e.left ?? []) this.#line(e.test, pc.yellow(`  ⚠ left behind: ${u(l)}`));
        break;
      case "test:end": {
        const r = e.result;
        const skipped = r.steps.filter((s) => s.status === "skipped").length;
        const mark = r.status === "passed" ? pc.green("✓ passed") : r.status === "failed" ? pc.red("✗ failed") : pc.red("✗ error");
        this.#line(e.test, `${mark} ${pc.bold(u(r.name))} in ${ms(r.durationMs)}${skipped ? pc.dim(`, ${skipped} step(s) skipped`) : ""}${r.error ? `: ${u(r.error.message)}` : ""}`);
        break;
      }
    }
  }

  finish(results: readonly TestResult[]): void {
    const passed = results.filter((r) => r.status === "passed").length;
    this.#out.write(`\n${passed} passed, ${results.length - passed} failed\n`);
  }
}

/** One JSON document with every result, written when the run ends. */
export class JsonReporter implements Reporter {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }
  onEvent(): void {}
  finish(results: readonly TestResult[]): void {
    const passed = results.filter((r) => r.status === "passed").length;
    this.#out.write(`${JSON.stringify(redactDeep({ passed, failed: results.length - passed, results }), null, 2)}\n`);
  }
}

/** JUnit XML (one testsuite per test file, one testcase per step) written to a file when the run ends. */
export class JunitReporter implements Reporter {
  readonly #output: string;
  readonly #loc: Locator | undefined;
  constructor(output: string, loc?: Locator) {
    this.#output = output;
    this.#loc = loc;
  }
  onEvent(): void {}
  finish(results: readonly TestResult[]): void {
    writeJunit(results, this.#output, this.#loc);
  }
}

/** The last lines of a step's output (what the failure shows too), for system-out and the failure's text. */
const OUTPUT_TAIL_LINES = 50;
const tail = (text: string) => text.replace(/\s+$/, "").split("\n").slice(-OUTPUT_TAIL_LINES).join("\n");

/**
 * Each testcase carries `file` (and `line`, where the step is in it): the attributes CI systems read
 * (GitLab, the JUnit annotation actions) to point at the test file. A failure's text is the message
 * with the tail of the step's stdout and stderr; system-out and system-err hold those tails.
 */
export function writeJunit(results: readonly TestResult[], output: string, loc?: Locator): void {
  // Loaded here, not at start-up: only a run with --reporter junit needs it (CommonJS: the module is the builder).
  const builder = (createRequire(import.meta.url)("junit-report-builder") as Builder).newBuilder();
  // XML 1.0 can't hold most control characters and the builder drops them: shown as text instead.
  const x = escapeControl;
  for (const raw of results) {
    const r = redactDeep(raw);
    const suite = builder.testSuite().name(x(r.name)).property("file", x(r.file)).property("run", r.runId).time(r.durationMs / 1000);
    if (r.error) {
      const tc = suite.testCase().className(x(r.file)).name("services").time(0).error(x(r.error.message), r.error.code);
      at(tc, loc?.service(raw, r.error.service), r.file);
    }
    r.steps.forEach((s, i) => {
      const tc = suite.testCase().className(x(r.file)).name(x(s.name)).time(s.durationMs / 1000);
      at(tc, loc?.step(raw, i), r.file);
      if (s.status === "failed") {
        const out = [s.stdout.trim() ? `stdout (last lines):\n${tail(s.stdout)}` : "", s.stderr.trim() ? `stderr (last lines):\n${tail(s.stderr)}` : ""].filter(Boolean).join("\n");
        tc.failure(x((s.failure ?? "failed").split("\n")[0]!), "step")
          // The runner's failure text ends with the output tail already (a command step's); else it is added.
          .stacktrace(x(`${s.failure ?? "failed"}${out && !s.failure?.includes("(last lines)") ? `\n${out}` : ""}`))
          .standardOutput(x(tail(s.stdout)))
          .standardError(x(tail(s.stderr)));
      } else if (s.status === "skipped") tc.skipped();
    });
  }
  builder.writeTo(output);
}

/** `file` and `line` on a testcase. The builder has `file()`; `line` is set as an attribute of the same element. */
function at(tc: ReturnType<ReturnType<Builder["testSuite"]>["testCase"]>, where: SourceLocation | undefined, file: string): void {
  tc.file(escapeControl(where?.file ?? file));
  if (where?.line !== undefined) (tc as unknown as { _attributes: Record<string, unknown> })._attributes.line = where.line;
}
