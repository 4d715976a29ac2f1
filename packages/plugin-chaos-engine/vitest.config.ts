import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared";

// Timing measurements on 2 shared cores: one file at a time.
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));
