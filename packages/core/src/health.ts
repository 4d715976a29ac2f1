export type HealthState = "healthy" | "unhealthy" | "unknown";

export interface HealthStatus {
  readonly status: HealthState;
  /** Why the service is (not) healthy: shown when a start fails. */
  readonly reason?: string;
  /** The service can't recover (its container exited, say): stop waiting for it at once. */
  readonly final?: boolean;
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
} as const;
