import { availableParallelism } from "node:os";
import { createError, capabilityOf, compileUserRegex, ValidationError } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import type { RunEvent, TestPlan, TestResult } from "@clnrm/runner";
import { collectTestFiles } from "../files.js";
import { EXIT } from "../main.js";
import { makeReporter, type ReporterName } from "../reporters/make.js";
import { partition, parseShard, readTimings, recordTimings, type ShardSpec, type Timings } from "../shard.js";

export interface RunCommandOptions {
  jobs?: number;
  reporter: ReporterName;
  output?: string;
  verbose?: boolean;
  tag?: string[];
  filter?: string;
  otelEndpoint?: string;
  /** `i/n`: run the i-th of n parts of the selected files. */
  shard?: string;
  /** Durations of earlier runs (--record-timings file or a json report) to balance the shards by. */
  timings?: string;
  /** Write this run's durations per file here (merged into what the file already has). */
  recordTimings?: string;
}

/**
 * The plans of one shard: the selected files split by `partition` (by the durations in --timings
 * when it exists, else by file count), this shard's part in the order of the run without --shard
 * (so `--shard 1/1` runs exactly what the plain run does, in the same order).
 */
export function shardPlans(plans: readonly TestPlan[], shard: ShardSpec, timings: Timings | undefined): { plans: TestPlan[]; byDuration: boolean } {
  const split = partition(
    plans.map((p) => p.displayName),
    shard.total,
    timings,
  );
  const mine = new Set(split.parts[shard.index - 1]);
  return { plans: plans.filter((p) => mine.has(p.displayName)), byDuration: split.byDuration };
}

/** Keeps the plans that match --tag (any of them) and --filter (text, or /regex/ on name and file). */
export function selectPlans(plans: readonly TestPlan[], opts: Pick<RunCommandOptions, "tag" | "filter">): TestPlan[] {
  let match: (s: string) => boolean = () => true;
  if (opts.filter) {
    const f = opts.filter;
    const re = /^\/(.+)\/([a-z]*)$/.exec(f);
    if (re) {
      const compiled = compileUserRegex(re[1]!, `--filter ${f}`, re[2]);
      match = (s) => compiled.test(s);
    } else {
      match = (s) => s.includes(f);
    }
  }
  const tags = opts.tag ?? [];
  return plans.filter((p) => (tags.length === 0 || p.meta.tags.some((t) => tags.includes(t))) && (match(p.name) || match(p.displayName)));
}

/** Plans every file first (bad input stops the run before anything starts), then runs them with bounded parallelism. */
export async function runCommand(paths: string[], opts: RunCommandOptions): Promise<number> {
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const timings = shard && opts.timings ? await readTimings(opts.timings) : undefined;
  const files = await collectTestFiles(paths);
  if (opts.reporter === "junit" && !opts.output) {
    throw new ValidationError("--reporter junit needs --output <file.xml>", { hint: "e.g. clnrm run --reporter junit --output results.xml" });
  }
  // The engine answers (and testcontainers reads `docker info`) while the files are planned. Its
  // answer is awaited after planning, so bad input is reported first, with or without an engine.
  const backend = dockerBackend();
  const pinging = backend.ping();
  pinging.catch(() => {});
  // Loaded after the ping is sent, so the engine answers while the runner (and marketplace) load.
  const { newRunId, planTest, runTest } = await import("@clnrm/runner");
  const all = await Promise.all(files.map((f) => planTest(f)));
  const selected = selectPlans(all, opts);
  if (selected.length === 0) {
    throw new ValidationError(`no test matches${opts.tag?.length ? ` --tag ${opts.tag.join(",")}` : ""}${opts.filter ? ` --filter ${opts.filter}` : ""} (${all.length} test file(s) found)`);
  }
  let plans = selected;
  if (shard) {
    const part = shardPlans(selected, shard, timings);
    plans = part.plans;
    const how = part.byDuration ? `balanced by the durations in ${opts.timings}` : opts.timings && !timings ? `by file count: ${opts.timings} does not exist yet` : "by file count";
    // stderr: stdout may be a json report.
    process.stderr.write(`clnrm: shard ${shard.index}/${shard.total}: ${plans.length} of ${selected.length} test file(s), ${how}\n`);
  }
  await pinging;
  // Leftovers of runs that died (SIGKILL, crash) are removed while this run starts.
  const sweeping = backend.sweep().catch(() => undefined);

  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), plans.length));
  const reporter = makeReporter(opts, jobs > 1, plans);
  const telemetry = await startRunTelemetry(opts.otelEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT, plans);
  const controller = new AbortController();
  let signalExit: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalExit !== undefined) return;
    signalExit = sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    process.stderr.write(`\nclnrm: ${sig} received, tearing down...\n`);
    controller.abort(createError("CLNRM_ERR_INTERRUPTED", `interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const results = await mapLimit(plans, jobs, (plan: TestPlan) => {
      const runId = newRunId();
      return runTest(plan, {
        backend,
        runId,
        signal: controller.signal,
        onEvent: (e) => {
          reporter.onEvent(e);
          telemetry?.onEvent(runId, e);
        },
        ...(telemetry ? { beforeTeardown: () => telemetry.beforeTeardown(runId) } : {}),
      });
    });
    await telemetry?.shutdown();
    await sweeping;
    reporter.finish(results);
    if (signalExit !== undefined) return signalExit;
    if (opts.recordTimings) await recordTimings(opts.recordTimings, results);
    // A missing image (or GPU runtime) is the machine's problem, not a failing test: exit 2, as for bad input.
    if (results.some((r: TestResult) => r.error?.environment)) return EXIT.badInput;
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

/**
 * clnrm's own traces: to --otel-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT), and automatically to each
 * span sink service of a run (a plugin with the `spanSink` capability) while it is up. The
 * OpenTelemetry SDK is loaded only when needed.
 */
async function startRunTelemetry(endpoint: string | undefined, plans: readonly TestPlan[]) {
  const hasCollector = plans.some((p) => [...p.services.values()].some((s) => capabilityOf(s.plugin.definition, "spanSink") !== undefined));
  if (!endpoint && !hasCollector) return undefined;
  const { startTelemetry, registerSecretEnv } = await import("../telemetry.js");
  registerSecretEnv();
  const telemetry = await startTelemetry({ serviceName: "clnrm", ...(endpoint ? { endpoint } : {}) });
  const byRun = new Map<string, { endpoint: string; added: Promise<void> }[]>();
  return {
    /** Events of one test's run: its collectors' endpoints receive spans while the run is up. */
    onEvent(runId: string, e: RunEvent) {
      if (e.type !== "service:ready" || !e.spanSink) return;
      const ep = e.spanSink.otlpHttpEndpoint;
      const list = byRun.get(runId) ?? [];
      list.push({ endpoint: ep, added: telemetry.addEndpoint(ep).catch(() => {}) });
      byRun.set(runId, list);
    },
    async beforeTeardown(runId: string) {
      for (const c of byRun.get(runId) ?? []) {
        await c.added;
        await telemetry.removeEndpoint(c.endpoint).catch(() => {});
      }
      byRun.delete(runId);
    },
    shutdown: () => telemetry.shutdown(),
  };
}
