import { planTest } from "@clnrm/runner";
import pc from "picocolors";
import { printError } from "../errors.js";
import { collectTestFiles } from "../files.js";
import { EXIT } from "../main.js";

/**
 * Checks every file without starting anything; prints one line per file. With the github reporter,
 * each problem is also an `::error` annotation at its file:line:col (GitHub Actions shows it there).
 */
export async function validateCommand(paths: string[], reporter: "human" | "github" = "human"): Promise<number> {
  const files = await collectTestFiles(paths);
  let bad = 0;
  for (const file of files) {
    try {
      const plan = await planTest(file);
      process.stdout.write(`${pc.green("✓")} ${plan.displayName}: ${plan.services.size} service(s), ${plan.steps.length} step(s)\n`);
    } catch (err) {
      bad++;
      if (reporter === "github") process.stdout.write((await import("../reporters/github.js")).errorAnnotations(err));
      printError(err);
    }
  }
  return bad ? EXIT.badInput : EXIT.passed;
}
