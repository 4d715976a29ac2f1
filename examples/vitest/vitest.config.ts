import { defineConfig } from "vitest/config";

// Starting containers takes longer than vitest's 5 s default the first time an image is pulled.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
