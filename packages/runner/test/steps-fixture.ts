import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, z } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll } from "vitest";
import { type PluginResolver, planTest, type RunEvent, runTest, type TestResult } from "../src/index.js";

/**
 * Helpers for the steps-*.int.test.ts files: a `box` service type (one container of a local test
 * image, with an optional command and memory limit), and a function that runs a test file's text
 * against the real engine and reports what its run left behind.
 */
export const box = definePlugin({
  type: "box",
  description: "test plugin: one container of a local image",
  configSchema: z.strictObject({
    image: z.string().default("clnrm-test/busybox:latest"),
    command: z.array(z.string()).optional(),
    memory_mb: z.number().int().positive().optional(),
  }),
  create: (cfg) => ({
    async start(ctx) {
      const c = await ctx.backend.run(
        {
          image: cfg.image,
          ...(cfg.command ? { command: cfg.command } : { keepAlive: true }),
          ...(cfg.memory_mb ? { resources: { memoryMb: cfg.memory_mb } } : {}),
        },
        { runId: ctx.runId, service: ctx.service, ...(ctx.network ? { network: ctx.network } : {}), signal: ctx.signal },
      );
      return { service: ctx.service, primary: c, containers: [c], outputs: {} };
    },
    async healthCheck() {
      return { status: "healthy" as const };
    },
    async stop(h) {
      await Promise.all(h.containers.map((c) => c.remove({ timeoutMs: 0 })));
    },
  }),
});

const resolver: PluginResolver = { resolve: async () => ({ definition: box, package: "inline", version: undefined }) };

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Containers of a run still there, by label. */
export function leftFor(runId: string, extraLabel?: string): string {
  const filters = ["--filter", `label=clnrm.run=${runId}`, ...(extraLabel ? ["--filter", `label=${extraLabel}`] : [])];
  return execFileSync("docker", ["ps", "-aq", ...filters], { encoding: "utf8" }).trim();
}

export interface RunFileOptions {
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

/** Runs a test file's text; `left` lists the run's containers still there afterwards (by label). */
export async function runFile(dir: string, toml: string, options: RunFileOptions = {}): Promise<{ result: TestResult; left: string; ms: number }> {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(file, toml);
  const plan = await planTest(file, resolver);
  const started = performance.now();
  const result = await runTest(plan, { backend: dockerBackend(), ...options });
  const ms = performance.now() - started;
  return { result, left: leftFor(result.runId), ms };
}
