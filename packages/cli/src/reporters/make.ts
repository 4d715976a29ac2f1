import { createWriteStream } from "node:fs";
import type { TestPlan } from "@clnrm/runner";
import { HumanReporter, JsonReporter, JunitReporter, type Reporter } from "../report.js";
import { GithubReporter } from "./github.js";
import { locator } from "./locate.js";

export const REPORTERS = ["human", "json", "junit", "github"] as const;
export type ReporterName = (typeof REPORTERS)[number];

/** The reporter of a run: `--output` is where json and junit go; junit and github print the human output too. */
export function makeReporter(opts: { reporter: ReporterName; output?: string; verbose?: boolean }, multi: boolean, plans: readonly TestPlan[]): Reporter {
  if (opts.reporter === "json") return new JsonReporter(opts.output ? createWriteStream(opts.output) : process.stdout);
  const human = new HumanReporter({ verbose: opts.verbose ?? false, multi });
  if (opts.reporter === "human") return human;
  const loc = locator(plans);
  if (opts.reporter === "github") {
    const github = new GithubReporter(human, loc);
    if (!opts.output) return github;
    // --output with github: the JUnit report too, for a test-report action.
    const junit = new JunitReporter(opts.output, loc);
    return {
      onEvent: (e) => github.onEvent(e),
      finish: (results) => {
        github.finish(results);
        junit.finish(results);
      },
    };
  }
  const junit = new JunitReporter(opts.output!, loc);
  return {
    onEvent: (e) => human.onEvent(e),
    finish: (results) => {
      human.finish(results);
      junit.finish(results);
    },
  };
}
