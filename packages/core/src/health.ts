export type HealthState = "healthy" | "unhealthy" | "unknown";

export interface HealthStatus {
  readonly status: HealthState;
  /** Why the service is (not) healthy: shown when a start fails. */
  readonly reason?: string;
}

export const HealthStatus = {
  healthy(reason?: string): HealthStatus {
    return reason === undefined ? { status: "healthy" } : { status: "healthy", reason };
  },
  unhealthy(reason: string): HealthStatus {
    return { status: "unhealthy", reason };
  },
  unknown(reason: string): HealthStatus {
    return { status: "unknown", reason };
  },
} as const;
