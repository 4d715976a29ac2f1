// One health probe check, used by both the readiness wait at start (wait.ts) and a started
// container's probe() (container.ts): the same spec means the same check.
import { type HealthProbe, httpProbeHeaders, UserRegex } from "@clnrm/core";
import { tcpOpen } from "./util.js";

/** What a check needs from a container, however it is reached. */
export interface ProbeTarget {
  /** The host on which published ports are reachable. */
  host: string;
  /** The host port for a container port; throws if it is not published. */
  port(containerPort: number): number;
  /** Runs a command in the container, resolving to its exit code. */
  exec(command: string[], timeoutMs: number): Promise<number>;
  /** The container's output so far (stdout and stderr). */
  logs(): Promise<string>;
}

export interface ProbeOptions {
  /** How long one http request may take (default 2 s). */
  httpTimeoutMs?: number;
  /** How long one exec check may take (default 5 s). */
  execTimeoutMs?: number;
}

/** True when the probe passes once now. Throws what the target throws (the caller decides what a failure means). */
export async function checkProbe(probe: HealthProbe, target: ProbeTarget, options: ProbeOptions = {}): Promise<boolean> {
  switch (probe.kind) {
    case "http": {
      const res = await fetch(`http://${target.host}:${target.port(probe.port)}${probe.path ?? "/"}`, {
        headers: httpProbeHeaders(probe),
        signal: AbortSignal.timeout(options.httpTimeoutMs ?? 2_000),
        redirect: "manual",
      });
      await res.body?.cancel();
      return probe.status === undefined ? res.status >= 200 && res.status < 400 : res.status === probe.status;
    }
    case "tcp":
      return tcpOpen(target.host, target.port(probe.port));
    case "exec":
      return (await target.exec(probe.command, options.execTimeoutMs ?? 5_000)) === 0;
    case "log":
      return new UserRegex(probe.pattern, "m").count(await target.logs()) >= (probe.times ?? 1);
  }
}
