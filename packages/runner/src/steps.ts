import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import {
  BoundedOutput,
  type ContainerBackend,
  type ContainerState,
  type ExecOptions,
  type ExecResult,
  fmtMs,
  isCleanroomError,
  type NetworkHandle,
  type RunningContainer,
  StreamMatcher,
  sleep,
  untilAborted,
} from "@clnrm/core";
import { runHttpStep } from "./http-step.js";
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
  /** Set when the step's service container was no longer running after the step: how it ended. */
  readonly serviceGone?: { readonly service: string; readonly state: ContainerState; readonly message: string };
}

/** Results of commands that clnrm stopped at their timeout, with the line that says so (the last line of their stderr). */
const stoppedAtTimeout = new WeakMap<ExecResult, string>();

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
    const finish = (code: number, extra = "", timeout = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener("abort", onAbort);
      if (pid !== undefined) liveGroups.delete(pid);
      const result = { exitCode: code, stdout: stdout.text(), stderr: stderr.text() + extra, durationMs: performance.now() - started };
      if (timeout) stoppedAtTimeout.set(result, extra.trimEnd());
      resolve(result);
    };
    const done = () => {
      if (ended === "timeout") finish(124, `timed out after ${fmtMs(options.timeoutMs)}\n`, true);
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
  /** The service container the step names, if it names one. */
  container: RunningContainer | undefined;
  cwd: string;
  /** For a step with `image`: the engine that runs its throwaway container, the run it belongs to, and the run's network. */
  backend?: ContainerBackend;
  runId?: string;
  network?: NetworkHandle;
}

/**
 * The environment variable set on every process a step execs in a container, with a value unique to
 * the exec: at the step's timeout, every process of the container that carries it (the command and
 * whatever it started) is killed, so nothing a step started keeps running in the service.
 */
export const STEP_MARKER_ENV = "CLNRM_STEP";

/** How long the exec that kills a timed-out step's processes may take. */
const KILL_EXEC_MS = 5_000;

/**
 * Kills every process in `container` whose environment carries `marker` (SIGKILL), in a few passes so
 * that children forked meanwhile go too. Needs `sh` and `grep` in the image. Says what happened.
 */
async function killMarked(container: RunningContainer, marker: string): Promise<string> {
  const script = [
    "command -v grep >/dev/null 2>&1 || exit 4",
    "i=0",
    "while [ $i -lt 5 ]; do",
    "  found=0",
    "  for p in /proc/[0-9]*; do",
    `    if grep -qs "$0" "$p/environ"; then kill -KILL "\${p#/proc/}" 2>/dev/null; found=1; fi`,
    "  done",
    '  [ "$found" = 0 ] && exit 0',
    "  i=$((i+1))",
    "done",
    "exit 3",
  ].join("\n");
  try {
    const r = await container.exec(["sh", "-c", script, `${STEP_MARKER_ENV}=${marker}`], { timeoutMs: KILL_EXEC_MS });
    if (r.exitCode === 0) return "what it started in the container was killed";
    const why = missingCommand(r)
      ? "the image has no sh"
      : r.exitCode === 4
        ? "the image has no grep"
        : r.exitCode === 3
          ? "new processes kept appearing"
          : `exit ${r.exitCode}${r.stderr.trim() ? `: ${tail(r.stderr, 1)}` : ""}`;
    return `what it started may still be running in the container (could not kill it: ${why})`;
  } catch (err) {
    return `what it started may still be running in the container (could not kill it: ${(err as Error).message})`;
  }
}

/**
 * Runs `command` in `container` under a fresh marker (see STEP_MARKER_ENV). At the timeout the
 * command's processes are killed (unless `throwaway`: the container is removed right after); the
 * output seen until then is kept. When `signal` aborts, teardown removes the container.
 */
async function execInContainer(
  container: RunningContainer,
  command: string[],
  options: ExecOptions & { timeoutMs: number },
  signal: AbortSignal,
  throwaway: boolean,
): Promise<ExecResult> {
  const marker = randomBytes(8).toString("hex");
  const stdout = new BoundedOutput();
  const stderr = new BoundedOutput();
  const started = performance.now();
  const exec = container.exec(command, {
    ...options,
    env: { ...options.env, [STEP_MARKER_ENV]: marker },
    onOutput: (stream, chunk) => {
      (stream === "stdout" ? stdout : stderr).push(chunk);
      options.onOutput?.(stream, chunk);
    },
  });
  try {
    return await untilAborted(exec, signal, () => new Error("interrupted"));
  } catch (err) {
    // The engine itself went away (the backend says so with an environment error): not the step's failure.
    if (isCleanroomError(err) && err.environment && !signal.aborted) throw err;
    const timedOut = isCleanroomError(err) && err.kind === "timeout";
    if (!timedOut && !signal.aborted) return { exitCode: 125, stdout: stdout.text(), stderr: `${stderr.text()}${(err as Error).message}\n`, durationMs: performance.now() - started };
    const result = (exitCode: number, what: string) => ({ exitCode, stdout: stdout.text(), stderr: `${stderr.text()}${what}\n`, durationMs: performance.now() - started });
    if (!timedOut) return result(130, "interrupted");
    const killed = throwaway ? "its container is removed" : await killMarked(container, marker);
    const line = `timed out after ${fmtMs(options.timeoutMs)}; ${killed}`;
    const r = result(124, line);
    stoppedAtTimeout.set(r, line);
    return r;
  }
}

/** The command a result says could not be started (exit 126/127 from the engine or a shell), and why. */
function missingCommand(r: ExecResult): { command: string; reason: "missing" | "not executable" } | undefined {
  if (r.exitCode !== 126 && r.exitCode !== 127) return undefined;
  const text = `${r.stdout}\n${r.stderr}`;
  // The engine: `OCI runtime exec failed: ... exec: "curl": executable file not found in $PATH: unknown`
  const oci = /exec: "([^"]+)": (executable file not found|stat [^:]*: no such file or directory|permission denied)/.exec(text);
  if (oci) return { command: oci[1]!, reason: oci[2] === "permission denied" ? "not executable" : "missing" };
  // A shell: `sh: curl: not found`, `/bin/sh: 1: curl: not found`, `bash: line 1: curl: command not found`
  const shell = r.exitCode === 127 ? /(?:^|: )([^\s:'"]+): (?:command )?not found\s*$/m.exec(r.stderr) : null;
  if (shell) return { command: shell[1]!, reason: "missing" };
  return undefined;
}

/** One line for a step whose command does not exist where it ran, or undefined. */
function explainMissing(step: StepConfig, r: ExecResult, container: RunningContainer | undefined): string | undefined {
  const missing = missingCommand(r);
  if (!missing) return undefined;
  const { command } = missing;
  if (!container) {
    if (r.stderr !== `${command}: command not found\n`) return undefined;
    return `'${command}' is not on this machine's PATH (a step without service runs on the host) — install it, or set service = "…" or image = "…" on the step to run it in a container`;
  }
  const what = missing.reason === "missing" ? "is not in" : "is not executable in";
  if (step.image) return `'${command}' ${what} image '${container.image}' — use a command the image has, or another image`;
  return `'${command}' ${what} image '${container.image}' of service '${step.service}' — use a command the image has, or set image = "<an image with ${command}>" on the step to run it in its own container that shares the service's network`;
}

/** How a service container that is no longer running ended, with its last log lines; undefined while it runs. */
async function serviceGone(service: string, container: RunningContainer, r?: ExecResult): Promise<StepResult["serviceGone"]> {
  let state = await container.state().catch(() => undefined);
  // An exec killed with its container (137, or no exit code) can end before the engine reports the container exited.
  for (let i = 0; state?.running && r && (r.exitCode >= 128 || r.exitCode < 0) && i < 20; i++) {
    await sleep(100);
    state = await container.state().catch(() => undefined);
  }
  if (!state || state.running) return undefined;
  const how =
    state.status === "removed"
      ? "its container was removed"
      : `its container exited with code ${state.exitCode ?? "?"}${state.oomKilled ? " and was OOM-killed (out of memory: raise its memory limit)" : ""}`;
  const logs = state.status === "removed" ? "" : tail(await container.logs({ tail: 20 }).catch(() => ""));
  const message = `service '${service}' is no longer running: ${how}\n${logs ? `  last log lines of '${service}':\n${logs.replace(/^/gm, "    ")}\n` : `  '${service}' logged nothing\n`}`;
  return { service, state, message };
}

/** Starts the throwaway container of a step with `image`: it shares the service's network namespace, or is on the run network. */
async function startStepContainer(step: StepConfig, target: StepTarget, signal: AbortSignal): Promise<RunningContainer> {
  if (!target.backend || !target.runId) throw new Error("no container engine to run the step's image with");
  return target.backend.run(
    { image: step.image!, keepAlive: true, labels: { "clnrm.step": step.name }, ...(target.container ? { networkOf: target.container.id } : {}) },
    { runId: target.runId, service: step.service ? `${step.service}-step` : "step", ...(target.network && !target.container ? { network: target.network } : {}), signal },
  );
}

/** Runs one step with its retries. The step's values must already be interpolated. */
export async function runStep(step: StepConfig, target: StepTarget, signal: AbortSignal): Promise<StepResult> {
  const started = performance.now();
  const failed = (failure: string): StepResult => ({
    name: step.name,
    service: step.service,
    status: "failed",
    exitCode: undefined,
    stdout: "",
    stderr: "",
    durationMs: performance.now() - started,
    attempts: 0,
    failure,
  });
  // An http step is a request clnrm makes from the host (http-step.ts).
  if (step.http) {
    const r = await runHttpStep({ ...step, http: step.http }, signal);
    return {
      name: step.name,
      service: undefined,
      status: r.status,
      exitCode: undefined,
      stdout: r.body,
      stderr: "",
      durationMs: performance.now() - started,
      attempts: r.attempts,
      ...(r.failure ? { failure: r.failure } : {}),
    };
  }
  const command = step.command!;
  // A step that names a service runs in its container, never on the host.
  if (step.service && !target.container) return failed(`service '${step.service}' has no container to exec in`);
  let own: RunningContainer | undefined;
  if (step.image) {
    try {
      own = await startStepContainer(step, target, signal);
    } catch (err) {
      if (signal.aborted) return failed("interrupted");
      const gone = step.service && target.container ? await serviceGone(step.service, target.container) : undefined;
      if (gone) return { ...failed(gone.message), serviceGone: gone };
      const msg = (err as Error).message.replace(/^service '[^']*': /, "");
      if (/exec: "\/bin\/sh": stat/.test(msg)) {
        return failed(`image '${step.image}' has no /bin/sh, which a step's own container needs (clnrm keeps it running with a shell while the step execs in it) — use an image that has one`);
      }
      return failed(`cannot run image '${step.image}' for the step: ${msg}`);
    }
  }
  try {
    const container = own ?? target.container;
    let attempts = 0;
    let last: ExecResult | undefined;
    let failure: string | undefined;
    let gone: StepResult["serviceGone"];
    for (;;) {
      attempts++;
      const streaming = outputMatchers(step);
      const options = { env: step.env, timeoutMs: step.timeout, ...(streaming ? { onOutput: streaming.onOutput } : {}) };
      last = container
        ? await execInContainer(container, command, { ...options, ...(step.workdir ? { workdir: step.workdir } : {}) }, signal, container === own)
        : await execOnHost(command, { ...options, cwd: step.workdir ?? target.cwd, signal });
      failure = checkExpectations(step, last, streaming?.matchers);
      const timeout = stoppedAtTimeout.get(last);
      if (failure && timeout) {
        // Say that it timed out first, rather than "expected exit code 0, got 124".
        failure = `${timeout}\n${tailBlock("stdout", last.stdout)}${tailBlock("stderr", last.stderr.slice(0, last.stderr.length - timeout.length - 1))}`;
      }
      if (failure && !signal.aborted) {
        gone = step.service && target.container ? await serviceGone(step.service, target.container, last) : undefined;
        const missing = gone ? undefined : explainMissing(step, last, container);
        if (gone) failure = gone.message;
        else if (missing) failure = missing;
        // Retrying can't bring back a service that is gone, nor add a command to an image.
        if (gone || missing) break;
      }
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
      ...(gone ? { serviceGone: gone } : {}),
    };
  } finally {
    await own?.remove({ timeoutMs: 0 }).catch(() => {});
  }
}
