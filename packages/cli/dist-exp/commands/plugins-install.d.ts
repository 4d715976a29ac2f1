export interface InstallOptions {
    yes?: boolean;
    /** For tests: whether stdin/stdout are a terminal (default: process.stdin.isTTY && process.stdout.isTTY). */
    tty?: boolean;
}
/** The trust warning for a package outside the official @clnrm scope. */
export declare function trustWarning(pkg: string): string;
/**
 * `clnrm plugins install <name...>`: built-in types map to their package, anything else is a package name.
 * Adds them as dev dependencies with the project's package manager. Third-party packages need a y/N
 * answer on a terminal, or --yes; without a terminal and without --yes nothing is installed (exit 2).
 */
export declare function pluginsInstallCommand(projectDir: string, names: readonly string[], opts: InstallOptions): Promise<number>;
/** `clnrm plugins remove <name...>`: removes the packages with the project's package manager. */
export declare function pluginsRemoveCommand(projectDir: string, names: readonly string[]): Promise<number>;
//# sourceMappingURL=plugins-install.d.ts.map