const isCleanroomError = (e) => typeof e === "object" && e !== null && typeof e.format === "function" && "userFacing" in e;
import pc from "picocolors";
/** Prints an error: one line for anything the user can fix, a stack trace only for clnrm's own bugs. */
export function printError(err, out = process.stderr) {
    if (isCleanroomError(err) && err.userFacing) {
        out.write(`${pc.red("error")}: ${err.format()}\n`);
        return;
    }
    const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
    out.write(`${pc.red("internal error")} (a bug in clnrm; please report it): ${stack}\n`);
}
/** 2 for bad input or environment (syntax, schema, unknown plugin, unreachable engine), 1 otherwise. */
export function exitCodeFor(err) {
    if (isCleanroomError(err) && err.userFacing)
        return 2;
    return 1;
}
//# sourceMappingURL=errors.js.map