import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { docker } from "./helpers.js";

// The secret checks of @clnrm/core/testing's conformance suite must catch a plugin that leaks. The
// suite runs, in a vitest of its own and against the real engine, on one deliberately leaky plugin
// per place a secret can leak (conformance-fixtures/leaky.conformance.ts) and on an honest one:
// each leaky plugin fails the secret check with the message naming its leak, the honest one passes.
const fixtures = join(import.meta.dirname, "conformance-fixtures");
const vitestBin = join(import.meta.dirname, "../../../node_modules/vitest/vitest.mjs");
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-leaky-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SECRET_TEST = "a secret never shows in logs, errors, outputs, labels, command lines or reports";

/** The failure each leak must produce (the suite's own assertion message). */
const expected: Record<string, RegExp> = {
  log: /^AssertionError: the plugin's log lines shows the secret/,
  output: /^AssertionError: output dsn shows the secret/,
  health: /^AssertionError: the health check shows the secret/,
  // (Each plugin leaks in one place only: the spec check is the one that sees labels and command lines.)
  label: /^AssertionError: the container spec \(image, command, entrypoint, labels, [^)]*\) shows the secret/,
  command: /^AssertionError: the container spec \(image, command, entrypoint, labels, [^)]*\) shows the secret/,
  env: /^AssertionError: env APP_CREDENTIAL holds the secret but is not in secretEnv/,
  name: /^AssertionError: docker inspect \/clnrm-conf-[0-9a-f]+-leaky-[0-9a-f]+-s3cr3t-[0-9a-f]+-\w+: name, command line or labels shows the secret/,
  error: /^AssertionError: the error shows the secret/,
  unlisted: /^AssertionError: the secret is not in a field listed in secretFields, so reports would show it/,
};

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string; failureMessages: string[] }> }>;
}

describe("conformance suite: the secret checks fail on leaky plugins", () => {
  it(
    "each leak fails its check; an honest plugin passes; nothing is left running",
    async () => {
      const service = `leaky-${randomBytes(4).toString("hex")}`;
      const out = join(scratch, "report.json");
      // Only VITEST_* of this run would confuse the inner one.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")));
      await promisify(execFile)(
        process.execPath,
        [vitestBin, "run", "--config", join(fixtures, "vitest.config.ts"), "-t", SECRET_TEST, "--reporter=json", `--outputFile=${out}`],
        { cwd: fixtures, env: { ...env, CLNRM_LEAKY_SERVICE: service, NO_COLOR: "1" }, maxBuffer: 64 << 20 },
      ).catch((e: { code?: number }) => {
        // vitest exits 1 when a test failed, as the leaky ones must; anything else is a broken run.
        if (e.code !== 1) throw e;
      });
      const report = JSON.parse(readFileSync(out, "utf8")) as JsonReport;
      const results = new Map(
        report.testResults
          .flatMap((f) => f.assertionResults)
          .filter((a) => a.title === SECRET_TEST)
          .map((a) => [a.ancestorTitles.join(" ").replace("plugin conformance: leaky-", ""), a]),
      );
      expect([...results.keys()].sort()).toEqual(["none", ...Object.keys(expected)].sort());
      expect(results.get("none")?.status, results.get("none")?.failureMessages.join("\n")).toBe("passed");
      for (const [leak, message] of Object.entries(expected)) {
        const r = results.get(leak)!;
        expect(r.status, `the ${leak} leak passed the conformance suite`).toBe("failed");
        expect(r.failureMessages[0], `the ${leak} leak failed for another reason`).toMatch(message);
      }
      // The suite cleans up after a failing plugin too.
      const left = docker(["ps", "-a", "--format", '{{.ID}} {{.Label "clnrm.service"}}']).filter((l) => l.split(" ")[1]?.startsWith(service));
      expect(left).toEqual([]);
    },
    300_000,
  );
});
