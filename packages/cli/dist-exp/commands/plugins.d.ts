/** Lists installed plugins from package metadata (nothing is imported), then the built-ins not installed. */
export declare function pluginsCommand(projectDir: string, opts: {
    json?: boolean;
}): Promise<number>;
export declare function printTable(header: string[], rows: string[][]): void;
//# sourceMappingURL=plugins.d.ts.map