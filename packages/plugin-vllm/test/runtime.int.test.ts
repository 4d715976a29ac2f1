import { ContainerError, TimeoutError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { dockerBackend } from "@clnrm/docker";
import { captureLog, leftovers, newRunId, startService } from "@clnrm/plugin-kit/testing";
import plugin from "../src/index.js";

const backend = dockerBackend();

const IMAGE = "clnrm-test/vllm-standin:latest";
const base = { image: IMAGE, gpus: 0, model_cache: false };
const runIds: string[] = [];
function runId(): string {
  const id = newRunId("vllm");
  runIds.push(id);
  return id;
}
afterAll(async () => {
  for (const id of runIds) await backend.sweep({ runId: id });
});

describe("vllm plugin on the stand-in image", () => {
  it("loads the model, lists it, serves completions; the HF token reaches the container but no log", async () => {
    const id = runId();
    const log = captureLog();
    process.env.CLNRM_TEST_HF_TOKEN = "hf_test_secret_123";
    try {
      const { lc, handle } = await startService(plugin, { ...base, model: "facebook/opt-125m", hf_token_env: "CLNRM_TEST_HF_TOKEN" }, { backend, runId: id, log });
      const { url, internal_url, port } = handle.outputs;
      expect(url).toBe(`http://localhost:${port}/v1`);
      expect(internal_url).toBe("http://llm:8000/v1");
      const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((m) => m.id)).toEqual(["facebook/opt-125m"]);
      const res = await fetch(`${url}/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "facebook/opt-125m", prompt: "Hello", max_tokens: 5 }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: Array<{ text: string }> }).choices[0]?.text).toBe(" world! How are you?");
      const env = await handle.primary!.exec(["sh", "-c", "echo $HF_TOKEN $HUGGING_FACE_HUB_TOKEN"]);
      expect(env.stdout.trim()).toBe("hf_test_secret_123 hf_test_secret_123");
      expect(await handle.primary!.logs()).toContain('"--model","facebook/opt-125m","--port","8000"');
      expect(JSON.stringify([log, handle.outputs])).not.toContain("hf_test_secret_123");
      await lc.stop();
      expect(leftovers(id)).toEqual([]);
    } finally {
      delete process.env.CLNRM_TEST_HF_TOKEN;
    }
  });

  it("a server that dies while loading fails at once with the log tail", async () => {
    const id = runId();
    const started = Date.now();
    const err = await startService(plugin, { ...base, model: "crash/model" }, { backend, runId: id, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toMatch(
      /^container exited with code 1 while waiting for vllm to load crash\/model; last log lines: .* \| ERROR engine\.py: OSError: crash\/model is not a local folder/,
    );
    expect((err as Error).message).not.toContain("\n");
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(leftovers(id)).toEqual([]);
  });

  it("a model the server never lists is a TimeoutError naming it", async () => {
    const id = runId();
    const err = await startService(plugin, { ...base, model: "ghost/model" }, { backend, runId: id, timeoutMs: 6_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^vllm does not list model 'ghost\/model' in \/v1\/models: listed: none; last log lines: /);
    expect(leftovers(id)).toEqual([]);
  });

  it("gpus = 1 without an NVIDIA runtime fails clearly", async () => {
    const id = runId();
    const err = await startService(plugin, { ...base, gpus: 1, model: "facebook/opt-125m" }, { backend, runId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe("GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set gpus = 0");
    expect(leftovers(id)).toEqual([]);
  });
});
