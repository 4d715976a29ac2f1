import { HealthStatus, type RunningContainer } from "@clnrm/plugin-api";
import { withTail } from "./logs.js";

/** fetch with a per-request timeout (default 5 s), also aborted by `signal`; throws on network errors. */
export async function http(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  const { timeoutMs = 5_000, ...rest } = init;
  const signals = [AbortSignal.timeout(timeoutMs), ...(rest.signal ? [rest.signal] : [])];
  return fetch(url, { ...rest, signal: AbortSignal.any(signals) });
}

/** A `waitUntilReady` check: GET origin+path answers 2xx, else the reason `GET <path> answered <status>`. */
export function httpOkCheck(origin: string, path: string, timeoutMs = 2_000): () => Promise<true | string> {
  return async () => {
    const r = await http(`${origin}${path}`, { timeoutMs });
    await r.body?.cancel();
    return r.ok || `GET ${path} answered ${r.status}`;
  };
}

/** A health check: the container runs (else unhealthy with its log tail) and GET origin+path answers 2xx. */
export async function httpHealth(container: RunningContainer | undefined, origin: string | undefined, path: string, timeoutMs = 3_000): Promise<HealthStatus> {
  if (!container || !origin) return HealthStatus.unknown("no container");
  const state = await container.state();
  if (!state.running) return HealthStatus.unhealthy(`container exited with code ${state.exitCode ?? "?"}${await withTail(container)}`);
  try {
    const r = await http(`${origin}${path}`, { timeoutMs });
    await r.body?.cancel();
    return r.ok ? HealthStatus.healthy() : HealthStatus.unhealthy(`GET ${path} answered ${r.status}`);
  } catch (err) {
    return HealthStatus.unhealthy(`GET ${path} failed: ${(err as Error).message}`);
  }
}
