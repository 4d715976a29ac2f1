import { execFileSync } from "node:child_process";
import { ContainerError, TimeoutError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { dockerBackend } from "@clnrm/docker";
import { captureLog, leftovers, newRunId, startService } from "@clnrm/plugin-kit/testing";
import plugin from "../src/index.js";

const backend = dockerBackend();

const IMAGE = "clnrm-test/ollama-standin:latest";
const runIds: string[] = [];
const cache = `clnrm-test-cache-ollama-${newRunId("v")}`;
function runId(): string {
  const id = newRunId("ollama");
  runIds.push(id);
  return id;
}

afterAll(async () => {
  for (const id of runIds) await backend.sweep({ runId: id });
  try {
    execFileSync("docker", ["volume", "rm", "-f", cache], { stdio: "ignore" });
  } catch {}
});

describe("ollama plugin on the stand-in image", () => {
  it("starts, pulls the model with progress, lists it, generates; stop leaves nothing", async () => {
    const id = runId();
    const log = captureLog();
    const started = Date.now();
    const { lc, handle } = await startService(plugin, { image: IMAGE, model: "llama2", model_cache: cache }, { backend, runId: id, log });
    const pullMs = Date.now() - started;
    const { url, internal_url, model, port } = handle.outputs;
    expect(url).toBe(`http://localhost:${port}`);
    expect(internal_url).toBe("http://llm:11434");
    expect(model).toBe("llama2");

    const percent = log.lines.filter((l) => /^pulling llama2: \d+% \(\d+\.\d\/2\.9 GB\)$/.test(l));
    expect(percent.length).toBeGreaterThanOrEqual(1);
    // Throttled: the stand-in streams 12 layer lines over ~1.5 s; at most one per 500 ms is shown.
    expect(percent.length).toBeLessThanOrEqual(Math.ceil(pullMs / 500) + 1);
    expect(log.lines).toContain("pulling llama2: writing manifest");
    expect(log.lines.some((l) => /^pulled llama2 in /.test(l))).toBe(true);

    const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name)).toContain("llama2:latest");
    const one = (await (await fetch(`${url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama2", prompt: "Hello", stream: false }) })).json()) as {
      response: string;
      done: boolean;
    };
    expect(one).toMatchObject({ done: true, response: "Hello! How can I help you today?" });
    const streamed = (await (await fetch(`${url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama2", prompt: "Hello" }) })).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { done: boolean });
    expect(streamed.length).toBeGreaterThan(2);
    expect(streamed.at(-1)?.done).toBe(true);

    // The model cache is a named volume labelled to survive `clnrm gc` (without --all).
    const labels = JSON.parse(execFileSync("docker", ["volume", "inspect", "--format", "{{json .Labels}}", cache], { encoding: "utf8" }));
    expect(labels).toMatchObject({ "clnrm.managed": "true", "clnrm.keep": "true" });
    expect((await lc.healthCheck()).status).toBe("healthy");

    await lc.stop();
    expect(leftovers(id)).toEqual([]);
    expect((await backend.sweep({ runId: id })).volumes).toEqual([]);
    execFileSync("docker", ["volume", "inspect", cache], { stdio: "ignore" }); // still there
  });

  it("a pull that ends with an error fails with the server's message", async () => {
    const id = runId();
    const err = await startService(plugin, { image: IMAGE, model: "missing-model", model_cache: cache }, { backend, runId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe("ollama could not pull model 'missing-model': pull model manifest: file does not exist");
    expect(leftovers(id)).toEqual([]);
  });

  it("a model that never appears in /api/tags is a TimeoutError naming it, within the startup timeout", async () => {
    const id = runId();
    const started = Date.now();
    const err = await startService(plugin, { image: IMAGE, model: "ghost", model_cache: cache }, { backend, runId: id, timeoutMs: 8_000 }).catch((e: unknown) => e);
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^ollama model 'ghost' did not appear in \/api\/tags: listed: .*; last log lines: .*POST \/api\/pull model=ghost/);
    // It gives up at the configured 8 s (not the 15 min default); the margin absorbs a loaded machine.
    expect(ms).toBeGreaterThanOrEqual(7_500);
    expect(ms).toBeLessThan(20_000);
    expect(leftovers(id)).toEqual([]);
  });

  it("gpu_enabled = true without an NVIDIA runtime fails clearly; gpu = \"auto\" falls back to CPU", async () => {
    const id = runId();
    const err = await startService(plugin, { image: IMAGE, gpu_enabled: true, model_cache: false }, { backend, runId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe(
      "GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set gpu_enabled = false",
    );
    expect(leftovers(id)).toEqual([]);

    const log = captureLog();
    const { lc } = await startService(plugin, { image: IMAGE, gpu: "auto", model_cache: false }, { backend, runId: id, log });
    expect(log.lines).toContain("no NVIDIA runtime on the Docker engine: running on CPU");
    await lc.stop();
    expect(leftovers(id)).toEqual([]);
  });
});
