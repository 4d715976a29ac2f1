import { ContainerError, type CleanroomErrorOptions } from "./errors.js";
import type { HealthProbe } from "./spec.js";

/** completed: a one-shot service whose command exited 0 before it was ready; it has nothing left to serve. */
export type HealthState = "healthy" | "unhealthy" | "unknown" | "completed";

export interface HealthStatus {
  readonly status: HealthState;
  /** Why the service is (not) healthy: shown when a start fails. */
  readonly reason?: string;
  /** The service can't recover (its container exited, say): stop waiting for it at once. */
  readonly final?: boolean;
  /** For `completed`: the exit code of the service's command (0). */
  readonly exitCode?: number;
}

export const HealthStatus = {
  healthy(reason?: string): HealthStatus {
    return reason === undefined ? { status: "healthy" } : { status: "healthy", reason };
  },
  unhealthy(reason: string): HealthStatus {
    return { status: "unhealthy", reason };
  },
  /** Unhealthy for good: the lifecycle fails the start at once instead of waiting out its timeout. */
  failed(reason: string): HealthStatus {
    return { status: "unhealthy", reason, final: true };
  },
  unknown(reason: string): HealthStatus {
    return { status: "unknown", reason };
  },
  /**
   * A one-shot service: its command exited 0 before the service was ready (as compose's
   * `service_completed_successfully`). The start succeeds, dependents start after it, and steps
   * can't target it.
   */
  completed(exitCode = 0): HealthStatus {
    return { status: "completed", exitCode, final: true };
  },
} as const;

/**
 * A container exited before it was ready. Backends throw it from `run` so that a plugin can tell a
 * one-shot command that completed (exit 0) from one that crashed, with the code and last log lines.
 */
export class ContainerExitedError extends ContainerError {
  readonly exitCode: number;
  /** The container's last log lines (stdout and stderr), trimmed. */
  readonly logTail: string;

  constructor(message: string, exitCode: number, logTail: string, options?: CleanroomErrorOptions) {
    super(message, { ...options, code: "CLNRM_ERR_CONTAINER_EXITED" });
    this.exitCode = exitCode;
    this.logTail = logTail;
  }
}

/** The exit of a container that exited before it was ready, from an error a backend threw (or undefined). */
export function containerExit(err: unknown): { exitCode: number; logTail: string } | undefined {
  if (err instanceof ContainerExitedError) return { exitCode: err.exitCode, logTail: err.logTail };
  // Another copy of @clnrm/core (a plugin bundling its own): match by shape.
  const e = err as { name?: unknown; exitCode?: unknown; logTail?: unknown } | null;
  if (e && typeof e === "object" && e.name === "ContainerExitedError" && typeof e.exitCode === "number") {
    return { exitCode: e.exitCode, logTail: typeof e.logTail === "string" ? e.logTail : "" };
  }
  return undefined;
}

/**
 * The request headers of an http probe: its `headers`, and `Authorization: Bearer <authToken>` when
 * it has a token (the token wins over an Authorization header). Backends send these with every probe.
 */
export function httpProbeHeaders(probe: Extract<HealthProbe, { kind: "http" }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(probe.headers ?? {})) if (!(probe.authToken && k.toLowerCase() === "authorization")) headers[k] = v;
  if (probe.authToken) headers.Authorization = `Bearer ${probe.authToken}`;
  return headers;
}
