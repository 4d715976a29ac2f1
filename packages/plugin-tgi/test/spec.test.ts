import { describe, expect, it } from "vitest";
import plugin, { configSchema, QUANTIZE, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);

describe("tgi ContainerSpec for the real image", () => {
  it("defaults: pinned image, launcher args only, port 80, every GPU, shm 1 GiB, HF cache at /data", () => {
    expect(toContainerSpec(parse({ model_id: "bigscience/bloom-560m" }), {})).toEqual({
      image: "ghcr.io/huggingface/text-generation-inference:3.3.0",
      env: {},
      command: ["--model-id", "bigscience/bloom-560m", "--port", "80"],
      ports: [{ container: 80 }],
      mounts: [{ type: "volume", name: "clnrm-model-cache-hf", target: "/data", labels: { "clnrm.managed": "true", "clnrm.keep": "true" } }],
      resources: { shmSizeMb: 1024 },
      gpus: { count: "all", capabilities: ["gpu"] },
    });
    expect(plugin.defaults?.startupTimeoutMs).toBe(15 * 60_000);
  });

  it("num_shard = N: --num-shard N and N devices; quantize, lengths, revision, extra args", () => {
    const spec = toContainerSpec(
      parse({
        model_id: "meta-llama/Llama-2-7b-hf",
        revision: "main",
        num_shard: 2,
        quantize: "bitsandbytes-nf4",
        max_input_length: 1024,
        max_total_tokens: 2048,
        extra_args: ["--trust-remote-code"],
        shm_size_mb: 4096,
        port: 18080,
      }),
      {},
    );
    expect(spec.gpus).toEqual({ count: 2, capabilities: ["gpu"] });
    expect(spec.command).toEqual([
      "--model-id", "meta-llama/Llama-2-7b-hf", "--port", "80", "--revision", "main", "--num-shard", "2", "--quantize", "bitsandbytes-nf4",
      "--max-input-length", "1024", "--max-total-tokens", "2048", "--trust-remote-code",
    ]);
    expect(spec.resources).toEqual({ shmSizeMb: 4096 });
    expect(spec.ports).toEqual([{ container: 80, host: 18080 }]);
    expect(spec.entrypoint).toBeUndefined();
  });

  it("gpus overrides the device count; gpus = 0 requests none", () => {
    expect(toContainerSpec(parse({ model_id: "m", num_shard: 2, gpus: 4 }), {}).gpus).toEqual({ count: 4, capabilities: ["gpu"] });
    expect(toContainerSpec(parse({ model_id: "m", gpus: 0 }), {}).gpus).toBeUndefined();
  });

  it("the HF token comes from the host environment and is marked secret", () => {
    const spec = toContainerSpec(parse({ model_id: "m", hf_token_env: "MY_HF" }), { MY_HF: "hf_x" });
    expect(spec.env).toEqual({ HF_TOKEN: "hf_x", HUGGING_FACE_HUB_TOKEN: "hf_x" });
    expect(spec.secretEnv).toEqual(["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]);
    expect(toContainerSpec(parse({ model_id: "m" }), {}).secretEnv).toBeUndefined();
  });

  it("quantize is one of TGI's methods; bad config is rejected", () => {
    for (const q of QUANTIZE) expect(configSchema.safeParse({ model_id: "m", quantize: q }).success).toBe(true);
    for (const bad of [{}, { model_id: "" }, { model_id: "m", quantize: "int3" }, { model_id: "m", num_shard: 0 }, { model_id: "m", gpus: "some" }, { model_id: "m", shm_size_mb: 0 }, { model_id: "m", model: "x" }]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
