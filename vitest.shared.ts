// The vitest settings every package shares: its tests next to the code or under test/, Docker-sized
// timeouts, and the testcontainers settings for a machine where the Ryuk image can't be pulled.
import { defineConfig } from "vitest/config";
import FailuresReporter from "./tools/vitest-failures.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", new FailuresReporter()],
    env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
  },
});
