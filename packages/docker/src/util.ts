import { connect } from "node:net";
import { PassThrough } from "node:stream";
import { BoundedOutput, ContainerError, type ExecOptions, type ExecResult, TimeoutError, fmtMs } from "@clnrm/core";
import type Dockerode from "dockerode";

/** Docker answered "no such object" (404), "removal already in progress" (409) or "already stopped" (304). */
export function isGone(err: unknown): boolean {
  const code = (err as { statusCode?: number } | null)?.statusCode;
  return code === 404 || code === 409 || code === 304;
}

/** The first line of an error's message, without dockerode's "(HTTP code 404) no such container - " prefix. */
export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.split("\n").find((l) => l.trim() !== "") ?? msg;
  return line.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, "").trim();
}

/** Splits Docker's multiplexed (non-TTY) log/attach format into one string, in arrival order. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let off = 0;
  // A multiplexed frame starts with [stream(0|1|2), 0, 0, 0, size(uint32 BE)].
  if (buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0) {
    while (off + 8 <= buf.length) {
      const size = buf.readUInt32BE(off + 4);
      parts.push(buf.subarray(off + 8, off + 8 + size));
      off += 8 + size;
    }
    return Buffer.concat(parts).toString("utf8");
  }
  return buf.toString("utf8");
}

/**
 * Runs a command in a container with stdout and stderr kept apart, each as a bounded head and tail
 * (every chunk is passed to `opts.onOutput`). Unlike testcontainers' exec this
 * has a timeout: on expiry the attach stream is closed and a TimeoutError thrown (the process itself
 * goes on inside the container until it ends or the container is removed).
 */
export async function execIn(container: Dockerode.Container, command: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const started = performance.now();
  const exec = await container.exec({
    Cmd: command,
    AttachStdout: true,
    AttachStderr: true,
    ...(opts.env ? { Env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(opts.workdir ? { WorkingDir: opts.workdir } : {}),
    ...(opts.user ? { User: opts.user } : {}),
  });
  const stream = await exec.start({ Detach: false, Tty: false });
  const out = new BoundedOutput();
  const err = new BoundedOutput();
  const so = new PassThrough().on("data", (d: Buffer) => {
    out.push(d);
    opts.onOutput?.("stdout", d);
  });
  const se = new PassThrough().on("data", (d: Buffer) => {
    err.push(d);
    opts.onOutput?.("stderr", d);
  });
  container.modem.demuxStream(stream, so, se);
  await new Promise<void>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs;
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => {
            stream.destroy();
            reject(
              new TimeoutError(`exec '${command.join(" ")}' did not finish within ${fmtMs(timeoutMs)}`, timeoutMs, {
                hint: "raise the exec timeout, or check that the command terminates",
              }),
            );
          }, timeoutMs)
        : undefined;
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  stream.destroy();
  let info = await exec.inspect();
  for (let i = 0; info.Running && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 10));
    info = await exec.inspect();
  }
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: out.text(),
    stderr: err.text(),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * True when something accepts a TCP connection on host:port and does not drop it at once. Docker's
 * userland proxy accepts connections on a published port even when nothing listens in the container,
 * then closes them immediately; holding the connection for a moment tells the two apart.
 */
export function tcpOpen(host: string, port: number, holdMs = 150, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on("connect", () => {
      clearTimeout(timer);
      setTimeout(() => finish(true), holdMs);
    });
    sock.on("data", () => finish(true));
    sock.on("end", () => finish(false));
    sock.on("close", () => finish(false));
    sock.on("error", () => finish(false));
  });
}

export function containerGone(id: string): ContainerError {
  return new ContainerError(`container ${id.slice(0, 12)} is gone`, { code: "CLNRM_ERR_CONTAINER_GONE", hint: "it was removed or exited; check its logs" });
}
