export declare function gcCommand(opts: {
    all?: boolean;
}): Promise<number>;
//# sourceMappingURL=gc.d.ts.map