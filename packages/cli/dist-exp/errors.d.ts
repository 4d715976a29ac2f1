/** Prints an error: one line for anything the user can fix, a stack trace only for clnrm's own bugs. */
export declare function printError(err: unknown, out?: NodeJS.WritableStream): void;
/** 2 for bad input or environment (syntax, schema, unknown plugin, unreachable engine), 1 otherwise. */
export declare function exitCodeFor(err: unknown): number;
//# sourceMappingURL=errors.d.ts.map