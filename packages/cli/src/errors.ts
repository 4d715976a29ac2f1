import { CleanroomError } from "@clnrm/core/errors";
import pc from "picocolors";

// `@clnrm/core/errors` is core's error module alone (it imports nothing): this module loads with
// every command (even --version), and the rest of core brings zod and OpenTelemetry with it.
// `CleanroomError.isInstance` is the one check for a clnrm error, across copies of core too.

/** Prints an error: one line for anything the user can fix, a stack trace only for clnrm's own bugs. */
export function printError(err: unknown, out: NodeJS.WritableStream = process.stderr): void {
  if (CleanroomError.isInstance(err) && err.userFacing) {
    out.write(`${pc.red("error")}: ${err.format()}\n`);
    return;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const code = CleanroomError.isInstance(err) ? ` [${err.code}]` : "";
  out.write(`${pc.red("internal error")}${code} (a bug in clnrm; please report it): ${stack}\n`);
}

/** 2 for bad input or environment (syntax, schema, unknown plugin, unreachable engine), 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  return CleanroomError.isInstance(err) && err.userFacing ? 2 : 1;
}
