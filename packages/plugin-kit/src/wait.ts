import { ContainerError, type RunningContainer, type StartContext, TimeoutError } from "@clnrm/plugin-api";
import { fmtMs, healthPollMs, nextCheckInMs, sleep } from "@clnrm/core";
import { withTail } from "./logs.js";

export interface WaitOptions {
  ctx: StartContext;
  container: RunningContainer;
  /** Epoch ms after which waiting fails (see deadlineFor). */
  deadline: number;
  /** "vllm to load facebook/opt-125m": used in progress lines and errors. */
  what: string;
  /** Returns true when ready, or a reason why not yet. A thrown error counts as a reason. */
  check: () => Promise<true | string>;
  /** The TimeoutError's message (without the log tail); default `<what> did not finish within <t>`. */
  timeoutMessage?: string;
  timeoutHint?: string;
  /** Default 10 s. */
  progressEveryMs?: number;
}

/** The period between checks after `elapsedMs` of waiting: the lifecycle's health-loop cadence (core's healthPollMs). */
export const pollEveryMs: (elapsedMs: number) => number = healthPollMs;

/** How often the container's state is read (an Engine API call) while waiting: for failing fast on an exit. */
const STATE_EVERY_MS = 250;

/**
 * Polls `check` (every pollEveryMs, measured from the start of one check to the next) until it
 * passes. Reports progress every ~10 s, fails fast (with the log tail) if the container exits
 * (its state is read every 250 ms, not at every check), and fails with a TimeoutError (with the
 * last reason and the log tail) at the deadline.
 */
export async function waitUntilReady(o: WaitOptions): Promise<void> {
  const started = Date.now();
  const every = o.progressEveryMs ?? 10_000;
  let nextProgress = started + every;
  let nextState = started;
  let reason = "not checked yet";
  for (;;) {
    if (o.ctx.signal.aborted) throw o.ctx.signal.reason ?? new ContainerError(`start of '${o.ctx.service}' was cancelled`, { code: "CLNRM_ERR_START_CANCELLED" });
    const checkStarted = Date.now();
    if (checkStarted >= nextState) {
      nextState = checkStarted + STATE_EVERY_MS;
      const state = await o.container.state();
      if (!state.running) {
        throw new ContainerError(
          `container exited with code ${state.exitCode ?? "?"} while waiting for ${o.what}${await withTail(o.container)}`,
          { code: "CLNRM_ERR_CONTAINER_EXITED", service: o.ctx.service, hint: "check the model name, arguments and resources in the container log" },
        );
      }
    }
    const r = await o.check().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (r === true) return;
    reason = r;
    const now = Date.now();
    if (now >= o.deadline) break;
    if (now >= nextProgress) {
      o.ctx.log.progress(`waiting for ${o.what} (${Math.round((now - started) / 1000)} s)`);
      nextProgress = now + every;
    }
    const delay = nextCheckInMs(now - started, now - checkStarted);
    await sleep(Math.min(delay, Math.max(1, o.deadline - now)), o.ctx.signal);
  }
  const waited = Date.now() - started;
  throw new TimeoutError(`${o.timeoutMessage ?? `${o.what} did not finish within ${fmtMs(waited)}`}: ${reason}${await withTail(o.container)}`, waited, {
    service: o.ctx.service,
    hint: o.timeoutHint ?? "raise the service's startup_timeout, or check the container log",
  });
}

/** Deadline for a plugin's own waits: a little before the lifecycle's start timeout fires (15 min if none). */
export function deadlineFor(ctx: StartContext, startedAt = Date.now()): number {
  const ms = ctx.startupTimeoutMs > 0 ? ctx.startupTimeoutMs : 15 * 60_000;
  const margin = Math.min(5_000, Math.max(500, ms * 0.05));
  return startedAt + Math.max(ms - margin, ms / 2);
}
