import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared";

// The programmatic-API example under examples/vitest runs with the runner's tests.
export default mergeConfig(shared, defineConfig({ test: { include: ["../../examples/vitest/*.test.ts"] } }));
