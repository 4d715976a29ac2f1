export declare const TEST_FILE_SUFFIX = ".clnrm.toml";
/** Expands files and directories into a sorted list of test files. A path that doesn't exist is an error. */
export declare function collectTestFiles(paths: readonly string[]): Promise<string[]>;
//# sourceMappingURL=files.d.ts.map