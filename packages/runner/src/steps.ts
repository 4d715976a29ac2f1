import { spawn } from "node:child_process";
import { type ExecResult, fmtMs, type RunningContainer, sleep, untilAborted } from "@clnrm/core";
import type { StepConfig } from "./schema.js";

export interface StepResult {
  readonly name: string;
  /** The service the step ran in; undefined for the host. */
  readonly service: string | undefined;
  readonly status: "passed" | "failed" | "skipped";
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly attempts: number;
  /** What was expected and what was seen, when the step failed. */
  readonly failure?: string;
}

const MAX_CAPTURE = 1024 * 1024;

/** Runs a command on the host, with a timeout, capturing stdout and stderr separately. */
export function execOnHost(command: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs: number; signal?: AbortSignal }): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = command;
    const child = spawn(cmd!, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < MAX_CAPTURE) stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < MAX_CAPTURE) stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const finish = (exitCode: number, extra = "") => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr: stderr + extra, durationMs: performance.now() - started });
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      finish(err.code === "ENOENT" ? 127 : 126, `${cmd}: ${err.code === "ENOENT" ? "command not found" : err.message}\n`);
    });
    child.on("close", (code, sig) => {
      if (timedOut) finish(124, `timed out after ${fmtMs(options.timeoutMs)}\n`);
      else finish(code ?? (sig ? 128 : 1));
    });
  });
}

/** Why a result doesn't meet the step's expectations, or undefined when it does. */
export function checkExpectations(step: StepConfig, r: ExecResult): string | undefined {
  const problems: string[] = [];
  if (r.exitCode !== step.expected_exit_code) problems.push(`expected exit code ${step.expected_exit_code}, got ${r.exitCode}`);
  if (step.expected_output_regex && !step.expected_output_regex.test(r.stdout)) {
    problems.push(`expected stdout to match /${step.expected_output_regex.source}/`);
  }
  if (step.expected_stderr_regex && !step.expected_stderr_regex.test(r.stderr)) {
    problems.push(`expected stderr to match /${step.expected_stderr_regex.source}/`);
  }
  if (problems.length === 0) return undefined;
  return `${problems.join("; ")}\n${tailBlock("stdout", r.stdout)}${tailBlock("stderr", r.stderr)}`;
}

export function tail(text: string, lines = 10): string {
  const all = text.replace(/\s+$/, "").split("\n");
  return all.slice(-lines).join("\n");
}

function tailBlock(label: string, text: string): string {
  const t = tail(text);
  return t ? `  ${label} (last lines):\n${t.replace(/^/gm, "    ")}\n` : `  ${label}: (empty)\n`;
}

export interface StepTarget {
  container: RunningContainer | undefined;
  cwd: string;
}

/** Runs one step with its retries. The step's values must already be interpolated. */
export async function runStep(step: StepConfig, target: StepTarget, signal: AbortSignal): Promise<StepResult> {
  const started = performance.now();
  let attempts = 0;
  let last: ExecResult | undefined;
  let failure: string | undefined;
  for (;;) {
    attempts++;
    const options = { env: step.env, timeoutMs: step.timeout };
    last = target.container
      ? await untilAborted(target.container.exec(step.command, { ...options, ...(step.workdir ? { workdir: step.workdir } : {}) }), signal, () => new Error("interrupted")).catch(
          (err: Error) => ({ exitCode: 125, stdout: "", stderr: `${err.message}\n`, durationMs: 0 }),
        )
      : await execOnHost(step.command, { ...options, cwd: step.workdir ?? target.cwd, signal });
    failure = checkExpectations(step, last);
    if (!failure || attempts > step.retries || signal.aborted) break;
    await sleep(step.retry_interval, signal);
  }
  return {
    name: step.name,
    service: step.service,
    status: failure ? "failed" : "passed",
    exitCode: last.exitCode,
    stdout: last.stdout,
    stderr: last.stderr,
    durationMs: performance.now() - started,
    attempts,
    ...(failure ? { failure: attempts > 1 ? `after ${attempts} attempts: ${failure}` : failure } : {}),
  };
}
