import { execFile, execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { dockerBackend } from "@clnrm/docker";
import { leftovers } from "@clnrm/plugin-kit/testing";

const backend = dockerBackend();

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
const example = resolve(import.meta.dirname, "../examples/llm.clnrm.toml");
const runIds: string[] = [];

afterAll(async () => {
  for (const id of runIds) await backend.sweep({ runId: id });
  // The example's model cache is kept by design (clnrm.keep); the test removes what it created.
  try {
    execFileSync("docker", ["volume", "rm", "-f", "clnrm-example-cache-ollama"], { stdio: "ignore" });
  } catch {}
});

it("clnrm run examples/llm.clnrm.toml: a tools container curls llm:11434/api/generate on the run network", async () => {
  const { stdout } = await run("node", [resolve(root, "packages/cli/dist/bin.js"), "run", example, "--reporter", "json"], { cwd: root, env: process.env });
  const report = JSON.parse(stdout) as {
    passed: number;
    results: Array<{ runId: string; status: string; services: Array<{ name: string; outputs: Record<string, unknown> }>; steps: Array<{ status: string; stdout: string }> }>;
  };
  const result = report.results[0]!;
  runIds.push(result.runId);
  expect(report.passed).toBe(1);
  expect(result.services.find((s) => s.name === "llm")?.outputs).toMatchObject({ internal_url: "http://llm:11434", model: "llama2" });
  expect(result.steps[0]?.stdout).toContain('"response":"Hello"');
  expect(leftovers(result.runId)).toEqual([]);
});
