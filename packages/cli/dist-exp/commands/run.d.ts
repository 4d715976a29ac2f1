import { type TestPlan } from "@clnrm/runner";
export interface RunCommandOptions {
    jobs?: number;
    reporter: "human" | "json" | "junit";
    output?: string;
    verbose?: boolean;
    tag?: string[];
    filter?: string;
}
/** Keeps the plans that match --tag (any of them) and --filter (text, or /regex/ on name and file). */
export declare function selectPlans(plans: readonly TestPlan[], opts: Pick<RunCommandOptions, "tag" | "filter">): TestPlan[];
/** Plans every file first (bad input stops the run before anything starts), then runs them with bounded parallelism. */
export declare function runCommand(paths: string[], opts: RunCommandOptions): Promise<number>;
export declare function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]>;
//# sourceMappingURL=run.d.ts.map