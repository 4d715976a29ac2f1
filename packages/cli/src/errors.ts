import pc from "picocolors";

// No import of @clnrm/core here: this module loads with every command (even --version), and core
// brings zod and OpenTelemetry with it. A CleanroomError is recognised by its shape.
interface UserError {
  userFacing: boolean;
  format(): string;
}

function isUserError(err: unknown): err is UserError {
  const e = err as Partial<UserError> | null;
  return typeof e === "object" && e !== null && e.userFacing === true && typeof e.format === "function";
}

/** Prints an error: one line for anything the user can fix, a stack trace only for clnrm's own bugs. */
export function printError(err: unknown, out: NodeJS.WritableStream = process.stderr): void {
  if (isUserError(err)) {
    out.write(`${pc.red("error")}: ${err.format()}\n`);
    return;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  out.write(`${pc.red("internal error")} (a bug in clnrm; please report it): ${stack}\n`);
}

/** 2 for bad input or environment (syntax, schema, unknown plugin, unreachable engine), 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  return isUserError(err) ? 2 : 1;
}
