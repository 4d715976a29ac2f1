// The readiness wait at start: testcontainers WaitStrategy objects (only its types are used here).
import type { HealthProbe } from "@clnrm/core";
import type Dockerode from "dockerode";
import type { BoundPorts, WaitStrategy } from "testcontainers";
import { type ProbeTarget, checkProbe } from "./probe.js";
import { demux, execIn } from "./util.js";

/** testcontainers does not export AbstractWaitStrategy; this is the same small base. */
abstract class BaseWait implements WaitStrategy {
  protected timeoutMs = 60_000;
  #set = false;
  abstract waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts, startTime?: Date): Promise<void>;
  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.#set = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.#set;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

/** Resolves at once: "started" is enough (no probe). Avoids testcontainers' default port wait. */
export class NoWait extends BaseWait {
  async waitUntilReady(): Promise<void> {}
}

/**
 * Delegates to a strategy and remembers whether waiting (rather than create/start) failed, and if the
 * container had exited then, its exit code and last log line (read before testcontainers removes it).
 */
export class Tracked extends BaseWait {
  failed = false;
  exited: { code: number; last: string; tail: string } | undefined;
  constructor(readonly inner: WaitStrategy) {
    super();
  }
  override withStartupTimeout(ms: number): this {
    this.inner.withStartupTimeout(ms);
    return super.withStartupTimeout(ms);
  }
  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts, startTime?: Date): Promise<void> {
    try {
      await this.inner.waitUntilReady(container, boundPorts, startTime);
    } catch (err) {
      this.failed = true;
      this.exited = await exitedWith(container);
      throw err;
    }
  }
}

/**
 * Polls the probe (the same check as a started container's probe(), see probe.ts) every 25 ms until
 * it passes; gives up early if the container exits. Our own polling rather than testcontainers'
 * strategies: Wait.forListeningPorts() checks every port through a shell inside the container,
 * Wait.forSuccessfulCommand() runs `/bin/sh -c` (busybox/distroless images have no bash, some no
 * shell at all), and one implementation means the wait and probe() cannot disagree.
 */
class ProbeWait extends BaseWait {
  constructor(
    readonly probe: HealthProbe,
    readonly host: string,
  ) {
    super();
  }
  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts): Promise<void> {
    const target: ProbeTarget = {
      host: this.host,
      port: (p) => boundPorts.getBinding(p),
      exec: async (command, timeoutMs) => (await execIn(container, command, { timeoutMs })).exitCode,
      logs: async () => demux(await container.logs({ follow: false, stdout: true, stderr: true })),
    };
    const httpTimeoutMs = Math.max(100, Math.min(2_000, this.timeoutMs / 3));
    const deadline = Date.now() + this.timeoutMs;
    // Every 25 ms (readiness seen within ~50 ms, issue 15), a slow check (an exec) then pausing half
    // its own time; the container's state every 10th time.
    for (let i = 0; ; i++) {
      const t0 = Date.now();
      if (await checkProbe(this.probe, target, { httpTimeoutMs }).catch(() => false)) return;
      const took = Date.now() - t0;
      if (i % 10 === 9) {
        const info = await container.inspect();
        if (!info.State.Running) throw new Error(`container exited with code ${info.State.ExitCode}`);
      }
      const pause = Math.max(5, 25 - took, Math.min(took, 1_000) / 2);
      if (Date.now() + pause > deadline) throw new Error(`not ready after ${this.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** The wait strategy for a probe: none (started is enough), or polling the probe. */
export function waitFor(probe: HealthProbe | undefined, host: string, timeoutMs: number): WaitStrategy {
  const wait = probe === undefined ? new NoWait() : new ProbeWait(probe, host);
  return wait.withStartupTimeout(timeoutMs);
}

/** "http :8080/" and friends, for messages. */
export function describeProbe(probe: HealthProbe): string {
  switch (probe.kind) {
    case "http":
      return `http :${probe.port}${probe.path ?? "/"}`;
    case "tcp":
      return `tcp :${probe.port}`;
    case "exec":
      return `exec '${probe.command.join(" ")}'`;
    case "log":
      return `log /${probe.pattern}/`;
  }
}

export function probeHint(probe: HealthProbe): string {
  switch (probe.kind) {
    case "http":
    case "tcp":
      return `check that the container listens on ${probe.port}, or raise health_check.timeout`;
    case "exec":
      return "check that the command succeeds in the container, or raise health_check.timeout";
    case "log":
      return "check the container's logs for the pattern, or raise health_check.timeout";
  }
}

/** The exit code, last log line and last 5 lines of a container that has exited, or undefined (running, or gone). */
export async function exitedWith(c: Dockerode.Container): Promise<{ code: number; last: string; tail: string } | undefined> {
  try {
    const s = (await c.inspect()).State;
    if (s.Running || s.Status !== "exited") return undefined;
    const logs = demux(await c.logs({ follow: false, stdout: true, stderr: true, tail: 5 }));
    const lines = logs.split("\n").map((l) => l.trim()).filter(Boolean);
    return { code: s.ExitCode, last: (lines.at(-1) ?? "").slice(0, 200), tail: lines.join("\n").slice(-1_000) };
  } catch {
    return undefined;
  }
}

/**
 * Rejects as soon as the container has exited while `starting` is still pending (checked every
 * 100 ms while `watching()`: once the create went out, until the wait gives up); never settles
 * otherwise. Raced against the start, it ends testcontainers' wait for ports (10 s) or health of a
 * container that is gone.
 */
export function exitBeforeReady(c: Dockerode.Container, watching: () => boolean, starting: Promise<unknown>): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
    };
    starting.then(settle, settle);
    const tick = async () => {
      if (settled) return;
      if (watching()) {
        const s = await c.inspect().then(
          (info) => info.State,
          () => undefined,
        );
        if (settled) return;
        if (watching() && s && !s.Running && (s.Status === "exited" || s.Status === "dead")) {
          reject(new Error(`container exited with code ${s.ExitCode}`));
          return;
        }
      }
      setTimeout(tick, 100);
    };
    void tick();
  });
}
