// Only for ../conformance-leaky.int.test.ts, which runs leaky.conformance.ts in a vitest of its own.
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // Vite's cache goes to the package's node_modules, not a new one beside the fixture.
  cacheDir: join(import.meta.dirname, "../../node_modules/.vite-leaky"),
  test: {
    root: import.meta.dirname,
    include: ["leaky.conformance.ts"],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
  },
});
