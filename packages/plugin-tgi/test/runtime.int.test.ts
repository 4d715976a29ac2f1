import { ContainerError, TimeoutError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { dockerBackend } from "@clnrm/docker";
import { leftovers, newRunId, startService } from "@clnrm/plugin-kit/testing";
import plugin from "../src/index.js";

const backend = dockerBackend();

const IMAGE = "clnrm-test/tgi-standin:latest";
const base = { image: IMAGE, gpus: 0, model_cache: false };
const runIds: string[] = [];
function runId(): string {
  const id = newRunId("tgi");
  runIds.push(id);
  return id;
}
afterAll(async () => {
  for (const id of runIds) await backend.sweep({ runId: id });
});

describe("tgi plugin on the stand-in image", () => {
  it("loads the model, /info reports it, /generate answers", async () => {
    const id = runId();
    const { lc, handle } = await startService(plugin, { ...base, model_id: "bigscience/bloom-560m", max_total_tokens: 512 }, { backend, runId: id });
    const { url, internal_url, port, model } = handle.outputs;
    expect(url).toBe(`http://localhost:${port}`);
    expect(internal_url).toBe("http://llm:80");
    expect(model).toBe("bigscience/bloom-560m");
    const info = (await (await fetch(`${url}/info`)).json()) as { model_id: string; max_total_tokens: number };
    expect(info).toMatchObject({ model_id: "bigscience/bloom-560m", max_total_tokens: 512 });
    const res = await fetch(`${url}/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: "Hello", parameters: { max_new_tokens: 5 } }),
    });
    expect(await res.json()).toEqual({ generated_text: " world! How are you?" });
    await lc.stop();
    expect(leftovers(id)).toEqual([]);
  });

  it("a launcher that dies while loading fails at once with the log tail", async () => {
    const id = runId();
    const err = await startService(plugin, { ...base, model_id: "crash/model" }, { backend, runId: id, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toMatch(/^container exited with code 1 while waiting for tgi to load crash\/model; last log lines: .*repository not found: crash\/model \| Error: DownloadError$/);
    expect(leftovers(id)).toEqual([]);
  });

  it("a server reporting another model is a TimeoutError naming the expected one", async () => {
    const id = runId();
    const err = await startService(plugin, { ...base, model_id: "ghost/model" }, { backend, runId: id, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^tgi does not report model 'ghost\/model' in \/info: model_id is 'other\/model'; last log lines: /);
    expect(leftovers(id)).toEqual([]);
  });

  it("num_shard = 2 without an NVIDIA runtime fails clearly", async () => {
    const id = runId();
    const err = await startService(plugin, { image: IMAGE, model_cache: false, model_id: "m", num_shard: 2 }, { backend, runId: id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe("GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set gpus = 0");
    expect(leftovers(id)).toEqual([]);
  });
});
