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
    this.#out.write(redact(`${this.#multi ? pc.dim(`[${test}] `) : ""}${text}\n`));
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case "test:start":
        this.#line(e.test, `${pc.bold("▶")} ${pc.bold(e.test)} ${pc.dim(`(run ${e.runId})`)}`);
        break;
      case "service:starting":
        this.#line(e.test, pc.dim(`  … starting ${e.service} (${e.plugin})`));
        break;
      case "service:progress":
        this.#line(e.test, pc.dim(`  … ${e.service}: ${e.message}`));
        break;
      case "service:ready": {
        this.#line(e.test, `  ${pc.green("✓")} service ${e.service} ready ${pc.dim(`(${ms(e.durationMs)})`)}`);
        for (const n of e.notices) this.#line(e.test, `      ${n.startsWith("privileged") || n.startsWith("added cap") ? pc.yellow(n) : pc.dim(n)}`);
        if (this.#verbose) {
          for (const [k, v] of Object.entries(e.outputs)) this.#line(e.test, pc.dim(`      ${k} = ${v}`));
        }
        break;
      }
      case "service:failed":
        this.#line(e.test, `  ${pc.red("✗")} service ${e.service} failed: ${e.error.format()}`);
        break;
      case "step:start":
        if (this.#verbose) this.#line(e.test, pc.dim(`  … step ${e.step}${e.service ? ` in ${e.service}` : " on host"}`));
        break;
      case "step:end": {
        const r = e.result;
        if (r.status === "passed") {
          this.#line(e.test, `  ${pc.green("✓")} step ${r.name} ${pc.dim(`(${ms(r.durationMs)}${r.attempts > 1 ? `, ${r.attempts} attempts` : ""})`)}`);
          if (this.#verbose && r.stdout.trim()) this.#line(e.test, pc.dim(r.stdout.trimEnd().replace(/^/gm, "      ")));
        } else {
          this.#line(e.test, `  ${pc.red("✗")} step ${r.name}: ${r.failure ?? "failed"}`.trimEnd());
        }
        break;
      }
      case "teardown":
        if (this.#verbose) this.#line(e.test, pc.dim(`  teardown ${ms(e.durationMs)}`));
        break;
      case "test:end": {
        const r = e.result;
        const skipped = r.steps.filter((s) => s.status === "skipped").length;
        const mark = r.status === "passed" ? pc.green("✓ passed") : r.status === "failed" ? pc.red("✗ failed") : pc.red("✗ error");
        this.#line(e.test, `${mark} ${pc.bold(r.name)} in ${ms(r.durationMs)}${skipped ? pc.dim(`, ${skipped} step(s) skipped`) : ""}${r.error ? `: ${r.error.message}` : ""}`);
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
  for (const r of redactDeep(results)) {
    const suite = builder.testSuite().name(r.name).property("file", r.file).property("run", r.runId).time(r.durationMs / 1000);
    if (r.error) {
      suite.testCase().className(r.file).name("services").time(0).error(r.error.message, r.error.code);
    }
    for (const s of r.steps) {
      const tc = suite.testCase().className(r.file).name(s.name).time(s.durationMs / 1000);
      if (s.status === "failed") tc.failure(s.failure ?? "failed").standardOutput(s.stdout).standardError(s.stderr);
      else if (s.status === "skipped") tc.skipped();
    }
  }
  builder.writeTo(output);
}
