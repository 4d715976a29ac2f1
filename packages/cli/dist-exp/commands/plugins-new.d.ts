/** `clnrm plugins new <name>`: scaffolds a plugin package (`clnrm-plugin-<name>` or `@scope/clnrm-plugin-<name>`). */
export declare function pluginsNewCommand(cwd: string, name: string, opts: {
    dir?: string;
    registry?: string;
}): Promise<number>;
//# sourceMappingURL=plugins-new.d.ts.map