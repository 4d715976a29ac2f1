import { describe, expect, it } from "vitest";
import plugin, { configSchema, toArgs, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);

describe("vllm ContainerSpec for the real image", () => {
  it("defaults: pinned image, args only (the image's entrypoint is the api_server), one GPU, HF cache, shm", () => {
    expect(toContainerSpec(parse({ model: "facebook/opt-125m" }), {})).toEqual({
      image: "vllm/vllm-openai:v0.8.5",
      env: {},
      command: ["--model", "facebook/opt-125m", "--port", "8000", "--tensor-parallel-size", "1"],
      ports: [{ container: 8000 }],
      mounts: [
        { type: "volume", name: "clnrm-model-cache-hf", target: "/root/.cache/huggingface", labels: { "clnrm.managed": "true", "clnrm.keep": "true" } },
      ],
      resources: { shmSizeMb: 1024 },
      gpus: { count: 1, capabilities: ["gpu"] },
    });
    expect(plugin.defaults?.startupTimeoutMs).toBe(15 * 60_000);
  });

  it("gpus = N: N devices and --tensor-parallel-size N; every option becomes an argument", () => {
    const c = parse({
      model: "meta-llama/Llama-2-7b-hf",
      gpus: 4,
      max_model_len: 4096,
      gpu_memory_utilization: 0.85,
      dtype: "bfloat16",
      quantization: "awq",
      extra_args: ["--enforce-eager", "--served-model-name", "llama"],
      port: 18000,
      shm_size_mb: 8192,
    });
    const spec = toContainerSpec(c, {});
    expect(spec.gpus).toEqual({ count: 4, capabilities: ["gpu"] });
    expect(spec.command).toEqual([
      "--model", "meta-llama/Llama-2-7b-hf", "--port", "8000", "--tensor-parallel-size", "4", "--max-model-len", "4096",
      "--gpu-memory-utilization", "0.85", "--dtype", "bfloat16", "--quantization", "awq", "--enforce-eager", "--served-model-name", "llama",
    ]);
    expect(spec.ports).toEqual([{ container: 8000, host: 18000 }]);
    expect(spec.resources).toEqual({ shmSizeMb: 8192 });
    expect(spec.entrypoint).toBeUndefined();
  });

  it("gpus = 0: no device request, no tensor parallelism", () => {
    const spec = toContainerSpec(parse({ model: "facebook/opt-125m", gpus: 0, model_cache: false }), {});
    expect(spec.gpus).toBeUndefined();
    expect(toArgs(parse({ model: "m", gpus: 0 }))).toEqual(["--model", "m", "--port", "8000"]);
    expect(spec.mounts).toEqual([]);
  });

  it("the HF token comes from the host environment (HF_TOKEN, or hf_token_env) and is marked secret", () => {
    const spec = toContainerSpec(parse({ model: "meta-llama/Llama-2-7b-hf" }), { HF_TOKEN: "hf_secret" });
    expect(spec.env).toEqual({ HF_TOKEN: "hf_secret", HUGGING_FACE_HUB_TOKEN: "hf_secret" });
    expect(spec.secretEnv).toEqual(["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]);
    const other = toContainerSpec(parse({ model: "m", hf_token_env: "MY_TOKEN" }), { HF_TOKEN: "wrong", MY_TOKEN: "hf_mine" });
    expect(other.env).toEqual({ HF_TOKEN: "hf_mine", HUGGING_FACE_HUB_TOKEN: "hf_mine" });
    const none = toContainerSpec(parse({ model: "m" }), {});
    expect(none.secretEnv).toBeUndefined();
    expect(JSON.stringify(spec.command)).not.toContain("hf_secret");
  });

  it("rejects bad config", () => {
    for (const bad of [
      {},
      { model: "" },
      { model: "m", gpus: -1 },
      { model: "m", gpus: 1.5 },
      { model: "m", gpu_memory_utilization: 1.5 },
      { model: "m", dtype: "int3" },
      { model: "m", extra_args: "--x" },
      { model: "m", hf_token_env: "not a name" },
      { model: "m", hf_token: "x" },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
