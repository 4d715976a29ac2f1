// A vitest reporter that appends one line per failed test (file, test name, first error line) to the
// file named by CLNRM_FAILURES_FILE. tools/bootstrap.sh prints that file after `pnpm test`, so the
// end of a long CI log says which tests failed, not only which package.
import { appendFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter } from "vitest/reporters";

type Task = { type: string; name: string; result?: { state?: string; errors?: { message?: string }[] }; tasks?: Task[] };
type File = Task & { filepath: string };

function failed(tasks: readonly Task[], prefix: string[], out: string[], file: string): void {
  for (const t of tasks) {
    const path = [...prefix, t.name];
    if (t.tasks?.length) failed(t.tasks, path, out, file);
    else if (t.result?.state === "fail") {
      const msg = (t.result.errors?.[0]?.message ?? "").split("\n")[0]!.slice(0, 300);
      out.push(`FAIL ${file} > ${path.join(" > ")}${msg ? `: ${msg}` : ""}`);
    }
  }
}

export default class FailuresReporter implements Reporter {
  onFinished(files: readonly File[] = [], errors: readonly unknown[] = []): void {
    const target = process.env.CLNRM_FAILURES_FILE;
    if (!target) return;
    const out: string[] = [];
    for (const f of files) {
      const file = relative(process.cwd(), f.filepath);
      if (f.result?.state === "fail" && !f.tasks?.some((t) => t.result?.state === "fail")) {
        out.push(`FAIL ${file}: ${(f.result.errors?.[0]?.message ?? "suite failed").split("\n")[0]}`);
      }
      failed(f.tasks ?? [], [], out, file);
    }
    for (const e of errors) out.push(`ERROR ${process.cwd()}: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
    if (out.length) appendFileSync(target, `${out.map((l) => `[${relative(`${import.meta.dirname}/..`, process.cwd())}] ${l}`).join("\n")}\n`);
  }
}
