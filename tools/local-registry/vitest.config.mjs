import { defineConfig } from "vitest/config";
import FailuresReporter from "../vitest-failures.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // One registry, one project: the tests of a file share them and run in order.
    fileParallelism: false,
    // The failed tests also go to $CLNRM_FAILURES_FILE, listed at the end of a CI log (tools/bootstrap.sh).
    reporters: ["default", new FailuresReporter()],
    env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
  },
});
