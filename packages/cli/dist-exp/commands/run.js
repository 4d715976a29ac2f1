import { availableParallelism } from "node:os";
import { createWriteStream } from "node:fs";
import { CleanroomError, ValidationError } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { planTest, runTest } from "@clnrm/runner";
import { collectTestFiles } from "../files.js";
import { EXIT } from "../main.js";
import { HumanReporter, JsonReporter, JunitReporter } from "../report.js";
/** Keeps the plans that match --tag (any of them) and --filter (text, or /regex/ on name and file). */
export function selectPlans(plans, opts) {
    let match = () => true;
    if (opts.filter) {
        const f = opts.filter;
        const re = /^\/(.+)\/([a-z]*)$/.exec(f);
        if (re) {
            let compiled;
            try {
                compiled = new RegExp(re[1], re[2]);
            }
            catch (err) {
                throw new ValidationError(`--filter ${f}: ${err.message}`);
            }
            match = (s) => compiled.test(s);
        }
        else {
            match = (s) => s.includes(f);
        }
    }
    const tags = opts.tag ?? [];
    return plans.filter((p) => (tags.length === 0 || p.meta.tags.some((t) => tags.includes(t))) && (match(p.name) || match(p.displayName)));
}
/** Plans every file first (bad input stops the run before anything starts), then runs them with bounded parallelism. */
export async function runCommand(paths, opts) {
    const files = await collectTestFiles(paths);
    if (opts.reporter === "junit" && !opts.output) {
        throw new ValidationError("--reporter junit needs --output <file.xml>", { hint: "e.g. clnrm run --reporter junit --output results.xml" });
    }
    const all = await Promise.all(files.map((f) => planTest(f)));
    const plans = selectPlans(all, opts);
    if (plans.length === 0) {
        throw new ValidationError(`no test matches${opts.tag?.length ? ` --tag ${opts.tag.join(",")}` : ""}${opts.filter ? ` --filter ${opts.filter}` : ""} (${all.length} test file(s) found)`);
    }
    const backend = dockerBackend();
    await backend.ping();
    // Leftovers of runs that died (SIGKILL, crash) are removed while this run starts.
    const sweeping = backend.sweep().catch(() => undefined);
    const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), plans.length));
    const reporter = makeReporter(opts, jobs > 1);
    const controller = new AbortController();
    let signalExit;
    const onSignal = (sig) => {
        if (signalExit !== undefined)
            return;
        signalExit = sig === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
        process.stderr.write(`\nclnrm: ${sig} received, tearing down...\n`);
        controller.abort(new CleanroomError("internal", `interrupted by ${sig}`));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
        const results = await mapLimit(plans, jobs, (plan) => runTest(plan, { backend, signal: controller.signal, onEvent: (e) => reporter.onEvent(e) }));
        await sweeping;
        reporter.finish(results);
        if (signalExit !== undefined)
            return signalExit;
        return results.every((r) => r.status === "passed") ? EXIT.passed : EXIT.failed;
    }
    finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
    }
}
export async function mapLimit(items, limit, fn) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
function makeReporter(opts, multi) {
    if (opts.reporter === "json")
        return new JsonReporter(opts.output ? createWriteStream(opts.output) : process.stdout);
    const human = new HumanReporter({ verbose: opts.verbose ?? false, multi });
    if (opts.reporter !== "junit")
        return human;
    const junit = new JunitReporter(opts.output);
    return {
        onEvent: (e) => human.onEvent(e),
        finish: (results) => {
            human.finish(results);
            junit.finish(results);
        },
    };
}
//# sourceMappingURL=run.js.map