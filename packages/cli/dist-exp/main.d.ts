import { Command } from "commander";
export declare const EXIT: {
    readonly passed: 0;
    readonly failed: 1;
    readonly badInput: 2;
    readonly sigint: 130;
    readonly sigterm: 143;
};
/** Builds the `clnrm` command tree. Each action imports what it needs, so `clnrm --version` stays cheap. */
export declare function program(): Command;
export declare function main(argv: string[]): Promise<number>;
//# sourceMappingURL=main.d.ts.map