import { spawn } from "node:child_process";
import { constants } from "node:os";
import { BoundedOutput, type ExecOptions, type ExecResult, fmtMs, type RunningContainer, StreamMatcher, sleep, untilAborted } from "@clnrm/core";
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

/** Process groups of host steps still running; killed if clnrm exits while they are. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** How long a host step's pipes may stay open after its process group is killed (a process that left the group can hold them). */
const PIPE_GRACE_MS = 200;

/**
 * Runs a command on the host, with a timeout, capturing stdout and stderr separately (a bounded head
 * and tail of each). The command runs in its own process group, and the whole group is killed when
 * the command ends, at its timeout and when `signal` aborts: nothing it started outlives the step.
 */
export function execOnHost(
  command: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs: number; signal?: AbortSignal; onOutput?: ExecOptions["onOutput"] },
): Promise<ExecResult> {
  const started = performance.now();
  const stdout = new BoundedOutput();
  const stderr = new BoundedOutput();
  return new Promise((resolve) => {
    const [cmd, ...args] = command;
    let ended: "timeout" | "aborted" | undefined;
    let exitCode = 1;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    let pid: number | undefined;
    const stop = () => {
      if (pid !== undefined) killGroup(pid);
    };
    const onAbort = () => {
      ended ??= "aborted";
      stop();
    };
    const finish = (code: number, extra = "") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener("abort", onAbort);
      if (pid !== undefined) liveGroups.delete(pid);
      resolve({ exitCode: code, stdout: stdout.text(), stderr: stderr.text() + extra, durationMs: performance.now() - started });
    };
    const done = () => {
      if (ended === "timeout") finish(124, `timed out after ${fmtMs(options.timeoutMs)}\n`);
      else if (ended === "aborted") finish(130, "interrupted\n");
      else finish(exitCode);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd!, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (err) {
      finish(126, `${cmd}: ${(err as Error).message}\n`);
      return;
    }
    pid = child.pid;
    if (pid !== undefined) {
      liveGroups.add(pid);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on("exit", () => liveGroups.forEach(killGroup));
      }
    }
    child.stdout!.on("data", (d: Buffer) => {
      stdout.push(d);
      options.onOutput?.("stdout", d);
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr.push(d);
      options.onOutput?.("stderr", d);
    });
    timer = setTimeout(() => {
      ended ??= "timeout";
      stop();
    }, options.timeoutMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err: NodeJS.ErrnoException) => {
      finish(err.code === "ENOENT" ? 127 : 126, `${cmd}: ${err.code === "ENOENT" ? "command not found" : err.message}\n`);
    });
    child.on("exit", (code, sig) => {
      exitCode = code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0);
      // The step ends with its command: whatever the command left running in its group goes too.
      stop();
      grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        done();
      }, PIPE_GRACE_MS);
    });
    child.on("close", done);
  });
}

/** The step's patterns, tested against its output as it streams (the result keeps only a head and tail). */
export interface OutputMatchers {
  stdout?: StreamMatcher;
  stderr?: StreamMatcher;
}

function outputMatchers(step: StepConfig): { matchers: OutputMatchers; onOutput: NonNullable<ExecOptions["onOutput"]> } | undefined {
  const out = step.expected_output_regex;
  const err = step.expected_stderr_regex;
  if (!out && !err) return undefined;
  const matchers: OutputMatchers = {
    ...(out ? { stdout: new StreamMatcher((t) => out.test(t)) } : {}),
    ...(err ? { stderr: new StreamMatcher((t) => err.test(t)) } : {}),
  };
  return { matchers, onOutput: (stream, chunk) => matchers[stream]?.push(chunk) };
}

/** Why a result doesn't meet the step's expectations, or undefined when it does. */
export function checkExpectations(step: StepConfig, r: ExecResult, matchers?: OutputMatchers): string | undefined {
  const problems: string[] = [];
  if (r.exitCode !== step.expected_exit_code) problems.push(`expected exit code ${step.expected_exit_code}, got ${r.exitCode}`);
  const matches = (re: RegExp, m: StreamMatcher | undefined, text: string) => (m ? m.matched(text) : re.test(text));
  if (step.expected_output_regex && !matches(step.expected_output_regex, matchers?.stdout, r.stdout)) {
    problems.push(`expected stdout to match /${step.expected_output_regex.source}/`);
  }
  if (step.expected_stderr_regex && !matches(step.expected_stderr_regex, matchers?.stderr, r.stderr)) {
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
  // A step that names a service runs in its container, never on the host.
  if (step.service && !target.container) {
    const failure = `service '${step.service}' has no container to exec in`;
    return { name: step.name, service: step.service, status: "failed", exitCode: undefined, stdout: "", stderr: "", durationMs: 0, attempts: 0, failure };
  }
  let attempts = 0;
  let last: ExecResult | undefined;
  let failure: string | undefined;
  for (;;) {
    attempts++;
    const streaming = outputMatchers(step);
    const options = { env: step.env, timeoutMs: step.timeout, ...(streaming ? { onOutput: streaming.onOutput } : {}) };
    last = target.container
      ? await untilAborted(target.container.exec(step.command, { ...options, ...(step.workdir ? { workdir: step.workdir } : {}) }), signal, () => new Error("interrupted")).catch(
          (err: Error) => ({ exitCode: 125, stdout: "", stderr: `${err.message}\n`, durationMs: 0 }),
        )
      : await execOnHost(step.command, { ...options, cwd: step.workdir ?? target.cwd, signal });
    failure = checkExpectations(step, last, streaming?.matchers);
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
