import type { SourceLocation } from "@clnrm/core";
import type { TestPlan, TestResult } from "@clnrm/runner";

/** Where a result's parts are in its test file: the CI reporters point at these lines. */
export interface Locator {
  /** The step (or `[[expect.spans]]` entry) at `index` of `result.steps`; the failed expectation's key when the failure names one the file sets. */
  step(result: TestResult, index: number): SourceLocation | undefined;
  /** A service's table, else the file. */
  service(result: TestResult, service: string | undefined): SourceLocation | undefined;
}

/** The key of a step that a failure message's first problem is about ("expected stdout to match …"). */
const EXPECTATION_KEYS: readonly [RegExp, string][] = [
  [/^expected stdout/, "expected_output_regex"],
  [/^expected stderr/, "expected_stderr_regex"],
  [/^expected exit code/, "expected_exit_code"],
  [/status/, "expected_status"],
  [/json/i, "expected_json"],
  [/header/, "expected_headers"],
  [/body/, "expected_body_regex"],
];

/**
 * Results come back in plan order with one entry per `[[steps]]` table (skipped ones too), then one
 * per `[[expect.spans]]` entry: the index of a step result is its index in the file.
 */
export function locator(plans: readonly TestPlan[]): Locator {
  const byFile = new Map(plans.map((p) => [p.displayName, p]));
  return {
    step(result, index) {
      const plan = byFile.get(result.file);
      if (!plan) return undefined;
      if (index >= plan.steps.length) {
        const spans = plan.doc.value.expect as { spans?: unknown[] } | undefined;
        const j = index - plan.steps.length;
        return Array.isArray(spans?.spans) && j < spans.spans.length ? plan.doc.locate(["expect", "spans", j]) : plan.doc.locate(["expect"]);
      }
      const raw = (plan.doc.value.steps as Record<string, unknown>[] | undefined)?.[index];
      const failure = result.steps[index]?.failure?.replace(/^after \d+ attempts: /, "") ?? "";
      const first = failure.split("\n")[0]!.split("; ")[0]!;
      const key = EXPECTATION_KEYS.find(([re, k]) => re.test(first) && raw && k in raw)?.[1];
      return plan.doc.locate(key ? ["steps", index, key] : ["steps", index]);
    },
    service(result, service) {
      const plan = byFile.get(result.file);
      if (!plan) return undefined;
      return service && plan.services.has(service) ? plan.doc.locate(["services", service]) : { file: plan.displayName };
    },
  };
}
