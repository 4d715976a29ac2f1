// Only for ../conformance-leaky.int.test.ts, which runs leaky.conformance.ts in a vitest of its own.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["leaky.conformance.ts"],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
  },
});
