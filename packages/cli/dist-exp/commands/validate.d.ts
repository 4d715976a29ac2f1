/** Checks every file without starting anything; prints one line per file. */
export declare function validateCommand(paths: string[]): Promise<number>;
//# sourceMappingURL=validate.d.ts.map