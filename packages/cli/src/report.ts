import { redact, redactDeep } from "@clnrm/core";
import type { RunEvent, TestResult } from "@clnrm/runner";
import { createRequire } from "node:module";
import type { Builder } from "junit-report-builder";
import pc from "picocolors";

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
  constructor(output: string) {
    this.#output = output;
  }
  onEvent(): void {}
  finish(results: readonly TestResult[]): void {
    writeJunit(results, this.#output);
  }
}

export function writeJunit(results: readonly TestResult[], output: string): void {
  // Loaded here, not at start-up: only a run with --reporter junit needs it (CommonJS: the module is the builder).
  const builder = (createRequire(import.meta.url)("junit-report-builder") as Builder).newBuilder();
  // XML 1.0 can't hold most control characters and the builder drops them: shown as text instead.
  const x = escapeControl;
  for (const r of redactDeep(results)) {
    const suite = builder.testSuite().name(x(r.name)).property("file", x(r.file)).property("run", r.runId).time(r.durationMs / 1000);
    if (r.error) {
      suite.testCase().className(x(r.file)).name("services").time(0).error(x(r.error.message), r.error.code);
    }
    for (const s of r.steps) {
      const tc = suite.testCase().className(x(r.file)).name(x(s.name)).time(s.durationMs / 1000);
      if (s.status === "failed") tc.failure(x(s.failure ?? "failed")).standardOutput(x(s.stdout)).standardError(x(s.stderr));
      else if (s.status === "skipped") tc.skipped();
    }
  }
  builder.writeTo(output);
}
