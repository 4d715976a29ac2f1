import { availableParallelism } from "node:os";
import { CleanroomError } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { planTest, type TestPlan, type TestResult, runTest } from "@clnrm/runner";
import { collectTestFiles } from "../files.js";
import { EXIT } from "../main.js";
import { HumanReporter, JsonReporter, type Reporter } from "../report.js";

export interface RunCommandOptions {
  jobs?: number;
  reporter: "human" | "json";
  verbose?: boolean;
}

/** Plans every file first (bad input stops the run before anything starts), then runs them with bounded parallelism. */
export async function runCommand(paths: string[], opts: RunCommandOptions): Promise<number> {
  const files = await collectTestFiles(paths);
  const plans = await Promise.all(files.map((f) => planTest(f)));
  const backend = dockerBackend();
  await backend.ping();
  // Leftovers of runs that died (SIGKILL, crash) are removed while this run starts.
  const sweeping = backend.sweep().catch(() => undefined);

  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), plans.length));
  const reporter: Reporter = opts.reporter === "json" ? new JsonReporter() : new HumanReporter({ verbose: opts.verbose ?? false, multi: jobs > 1 });
  const controller = new AbortController();
  let signalExit: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalExit !== undefined) return;
    signalExit = sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    process.stderr.write(`\nclnrm: ${sig} received, tearing down...\n`);
    controller.abort(new CleanroomError("internal", `interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const results = await mapLimit(plans, jobs, (plan: TestPlan) =>
      runTest(plan, { backend, signal: controller.signal, onEvent: (e) => reporter.onEvent(e) }),
    );
    await sweeping;
    reporter.finish(results);
    if (signalExit !== undefined) return signalExit;
    return results.every((r: TestResult) => r.status === "passed") ? EXIT.passed : EXIT.failed;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
