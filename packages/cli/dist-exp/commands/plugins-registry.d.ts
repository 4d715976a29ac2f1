/** `clnrm plugins search <text>`: the default registry and every scoped one, filtered on the clnrm-plugin keyword. */
export declare function pluginsSearchCommand(projectDir: string, text: string, opts: {
    json?: boolean;
}): Promise<number>;
/** `clnrm plugins info <name>`: registry metadata, compatibility with this clnrm, and the installed version. */
export declare function pluginsInfoCommand(projectDir: string, input: string, opts: {
    json?: boolean;
}): Promise<number>;
//# sourceMappingURL=plugins-registry.d.ts.map