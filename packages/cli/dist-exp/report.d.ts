import type { RunEvent, TestResult } from "@clnrm/runner";
export interface Reporter {
    onEvent(event: RunEvent): void;
    /** Called once after every test ran. */
    finish(results: readonly TestResult[]): void;
}
/** Line-oriented human output: services starting, steps passing, failures with what was expected and seen. */
export declare class HumanReporter implements Reporter {
    #private;
    constructor(options?: {
        out?: NodeJS.WritableStream;
        verbose?: boolean;
        multi?: boolean;
    });
    onEvent(e: RunEvent): void;
    finish(results: readonly TestResult[]): void;
}
/** One JSON document with every result, written when the run ends. */
export declare class JsonReporter implements Reporter {
    #private;
    constructor(out?: NodeJS.WritableStream);
    onEvent(): void;
    finish(results: readonly TestResult[]): void;
}
/** JUnit XML (one testsuite per test file, one testcase per step) written to a file when the run ends. */
export declare class JunitReporter implements Reporter {
    #private;
    constructor(output: string);
    onEvent(): void;
    finish(results: readonly TestResult[]): void;
}
export declare function writeJunit(results: readonly TestResult[], output: string): void;
//# sourceMappingURL=report.d.ts.map