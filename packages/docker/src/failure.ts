// What a failed container start means, in one line: pure functions of what the start saw.
import { type CleanroomError, ContainerError, ContainerExitedError, type ContainerSpec, type HealthProbe, TimeoutError, fmtMs } from "@clnrm/core";
import { firstLine } from "./util.js";
import { describeProbe, probeHint } from "./wait.js";

/** A spec the engine can't run as given, or undefined. */
export function specProblem(spec: ContainerSpec, service: string): ContainerError | undefined {
  if (spec.networkOf && spec.ports?.length) {
    return new ContainerError(`service '${service}': a container sharing another's network (networkOf) cannot publish ports`, {
      service,
      hint: "publish the ports on the container whose network it shares",
    });
  }
  return undefined;
}

export function startCancelled(service: string, cause?: unknown): ContainerError {
  return new ContainerError(`service '${service}': start was cancelled`, { code: "CLNRM_ERR_START_CANCELLED", service, ...(cause === undefined ? {} : { cause }) });
}

export interface StartFailure {
  service: string;
  /** What the start (create, start, or wait) threw. */
  err: unknown;
  /** The container had exited: its code, last log line and last lines. */
  exited?: { code: number; last: string; tail: string } | undefined;
  probe?: HealthProbe | undefined;
  /** The readiness wait (not create or start) failed. */
  waitFailed: boolean;
  timeoutMs: number;
}

/**
 * The error for a start that failed (not cancelled, engine still there): the container exited
 * (ContainerExitedError, with its code and last line), the health check did not pass in time
 * (TimeoutError), or the engine refused (ContainerError with its first line).
 */
export function startFailure(f: StartFailure): CleanroomError {
  const { service, err, exited, probe } = f;
  if (exited) {
    const message = `service '${service}': container exited with code ${exited.code} before it was ready${exited.last ? `: ${exited.last}` : ""}`;
    return new ContainerExitedError(message, exited.code, exited.tail, { service, hint: "check the container's command and logs", cause: err });
  }
  if (!probe || !f.waitFailed) return new ContainerError(`service '${service}': cannot start container: ${firstLine(err)}`, { service, cause: err });
  if (/exited|ended/i.test(firstLine(err))) {
    return new ContainerError(`service '${service}': container exited before health check ${describeProbe(probe)} passed`, {
      code: "CLNRM_ERR_CONTAINER_EXITED",
      service,
      hint: "check the container's command and logs",
      cause: err,
    });
  }
  return new TimeoutError(`service '${service}': health check ${describeProbe(probe)} not ready after ${fmtMs(f.timeoutMs)}`, f.timeoutMs, {
    service,
    hint: probeHint(probe),
    cause: err,
  });
}
