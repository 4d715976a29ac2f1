import type { ConfigIssue } from "@clnrm/plugin-api/plugin";
import type { z } from "zod";
import { didYouMean } from "./suggest.js";

export type { ConfigIssue };

/**
 * Turns zod issues into one readable message each, with "did you mean" for unknown keys.
 * `knownKeys(path)` lists the valid keys of the object at `path`, for suggestions.
 */
export function describeZodIssues(error: z.ZodError, knownKeys?: (path: (string | number)[]) => string[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  // An unknown key is usually a misspelt known one, so it explains a "missing" key: report it first.
  const issues = [...error.issues].sort((a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"));
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      const keys = knownKeys?.(path) ?? [];
      for (const key of issue.keys) {
        const hint = didYouMean(key, keys);
        out.push({
          path: [...path, key],
          message: `unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : keys.length ? ` (valid keys: ${keys.join(", ")})` : ""}`,
        });
      }
      continue;
    }
    if (issue.code === "invalid_union" && "errors" in issue && Array.isArray(issue.errors)) {
      // Report the branch that got furthest: of the branches whose type matched the value (not
      // just a top-level "expected string, received object"), the one with the fewest issues.
      const branches = (issue.errors as z.core.$ZodIssue[][]).filter(
        (b) => b.length > 0 && !b.every((i) => i.code === "invalid_type" && i.path.length === 0),
      );
      const best = branches.sort((a, b) => a.length - b.length)[0];
      if (best?.[0]) {
        const inner = best[0];
        out.push({ path: [...path, ...inner.path.filter((p): p is string | number => typeof p !== "symbol")], message: inner.message });
        continue;
      }
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

export function formatPath(path: readonly (string | number)[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
  return s;
}
