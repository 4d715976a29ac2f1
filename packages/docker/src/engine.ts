// Telling "the engine went away" (stopped, restarted, socket gone) from an ordinary engine error.
import { ContainerError } from "@clnrm/core";

/** Socket-level failures: nothing answers at the engine's address any more. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENOTCONN", "ECONNABORTED"]);

/** The error (or its cause) is a failure to talk to the engine at all, not an answer from it. */
export function engineUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; statusCode?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e instanceof EngineGoneError) return true;
    if (typeof e.statusCode === "number") return false;
    if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return true;
    if (typeof e.message === "string" && /socket hang up|connect (ECONNREFUSED|ENOENT)/.test(e.message)) return true;
  }
  return false;
}

/** The first socket-level reason in an error chain, e.g. "connect ECONNREFUSED /var/run/docker.sock". */
function reason(err: unknown): string {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (typeof e.message === "string" && e.message && !(e instanceof EngineGoneError)) return e.message.split("\n")[0]!;
  }
  return String(err);
}

/** The engine stopped answering during a run. environment: the CLI exits 2 and says to run `clnrm gc`. */
export class EngineGoneError extends ContainerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: "CLNRM_ERR_ENGINE_GONE", environment: true, cause });
  }
}

/** One line for a run whose engine went away; passes an EngineGoneError through. */
export function engineWentAway(err: unknown): EngineGoneError {
  if (err instanceof EngineGoneError) return err;
  return new EngineGoneError(`the Docker engine went away during the run: ${reason(err)}; run \`clnrm gc\` when it is back`, err);
}
