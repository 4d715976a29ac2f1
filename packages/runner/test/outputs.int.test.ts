import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Outputs } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, describe, expect, it } from "vitest";
import { planTest, type RunEvent, runTest } from "../src/index.js";

// validate refuses `${services.X.Y}` when Y is not one of the outputs X's plugin declares: the
// declaration must be exactly what a running service gives back, or validate would refuse a file
// that runs (or let through one that fails). Checked here against the real engine.
const dir = mkdtempSync(join(import.meta.dirname, ".tmp-outputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runAndCompare(source: string, service: string): Promise<void> {
  const file = join(dir, `o${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(file, source);
  const plan = await planTest(file);
  const svc = plan.services.get(service)!;
  const declared = svc.plugin.definition.outputs!(svc.plugin.definition.configSchema.parse(svc.raw));
  let outputs: Outputs | undefined;
  const result = await runTest(plan, {
    backend: dockerBackend(),
    onEvent: (e: RunEvent) => {
      if (e.type === "service:ready" && e.service === service) outputs = e.outputs;
    },
  });
  const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${result.runId}`], { encoding: "utf8" }).trim();
  expect(left).toBe("");
  expect(result.status, result.error?.message).toBe("passed");
  expect(Object.keys(outputs ?? {}).sort()).toEqual([...declared].sort());
}

describe("the other plugins' declared outputs are their real ones (stand-in images)", () => {
  it.each([
    ["otel_collector", 'image = "clnrm-test/otel-collector-standin:latest"'],
    ["surrealdb", 'image = "clnrm-test/surrealdb-standin:latest"'],
    ["ollama", 'image = "clnrm-test/ollama-standin:latest"\nmodel_cache = false'],
    ["vllm", 'image = "clnrm-test/vllm-standin:latest"\nmodel = "facebook/opt-125m"\ngpus = 0\nmodel_cache = false'],
    ["tgi", 'image = "clnrm-test/tgi-standin:latest"\nmodel_id = "bigscience/bloom-560m"\ngpus = 0\nmodel_cache = false'],
  ])("%s", async (type, config) => {
    await runAndCompare(`[services.x]\ntype = "${type}"\n${config}\n\n[[steps]]\nname = "s"\ncommand = "true"\n`, "x");
  }, 180_000);
});

describe("generic_container's declared outputs (real engine)", () => {
  it.each([
    ["no ports", "", ["host", "container"]],
    ["two ports, one udp", 'ports = ["8080", "9000/udp"]', ["host", "container", "port", "url", "port_8080", "port_9000"]],
  ])("%s: the declared outputs are the outputs of the running service, and every one resolves in a step", async (_name, ports, expected) => {
    const file = join(dir, `o${Math.random().toString(36).slice(2)}.clnrm.toml`);
    const refs = expected.map((k) => `${k}=\${services.web.${k}}`).join(" ");
    writeFileSync(
      file,
      `[services.web]\ntype = "generic_container"\nimage = "alpine:latest"\ncommand = ["sleep", "300"]\n${ports}\n\n[[steps]]\nname = "all outputs"\ncommand = ["echo", "${refs}"]\n`,
    );
    const plan = await planTest(file);
    const svc = plan.services.get("web")!;
    const declared = svc.plugin.definition.outputs!(svc.plugin.definition.configSchema.parse(svc.raw));
    expect([...declared].sort()).toEqual([...expected].sort());

    let outputs: Outputs | undefined;
    const result = await runTest(plan, {
      backend: dockerBackend(),
      onEvent: (e: RunEvent) => {
        if (e.type === "service:ready") outputs = e.outputs;
      },
    });
    const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${result.runId}`], { encoding: "utf8" }).trim();
    expect(left).toBe("");
    expect(result.status, result.error?.message).toBe("passed");
    expect(Object.keys(outputs ?? {}).sort()).toEqual([...declared].sort());
    expect(result.steps[0]?.stdout).not.toContain("${");
  }, 90_000);
});
