import { type ContainerSpec, definePlugin } from "@clnrm/plugin-api";
import { envSchema, z } from "@clnrm/plugin-kit";
import { HTTP_SERVER_OUTPUTS, hfServerPlugin, hfServerSpec, hfTokenEnvSchema, modelCacheSchema } from "@clnrm/plugin-kit";

export const DEFAULT_IMAGE = "vllm/vllm-openai:v0.8.5";
export const VLLM_PORT = 8000;
export const READINESS_PATH = "/health";
export const MODELS_PATH = "/v1/models";
export const CACHE_VOLUME = "clnrm-model-cache-hf";
export const CACHE_TARGET = "/root/.cache/huggingface";

export const configSchema = z.strictObject({
  image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The vLLM image; defaults to the pinned upstream image (its entrypoint is the OpenAI api_server)."),
  model: z.string().trim().min(1, "model must not be empty").describe("Hugging Face model id, e.g. \"facebook/opt-125m\"."),
  gpus: z.number().int().min(0).max(64).default(1).describe("GPUs to request (device count) and --tensor-parallel-size; 0 runs without a GPU request."),
  max_model_len: z.number().int().positive().optional().describe("Context length of the model, in tokens (--max-model-len)."),
  gpu_memory_utilization: z.number().gt(0).max(1).optional().describe("Fraction of GPU memory vLLM may use, above 0 and at most 1 (--gpu-memory-utilization)."),
  dtype: z.enum(["auto", "half", "float16", "bfloat16", "float", "float32"]).optional().describe("Data type of the weights and activations (--dtype)."),
  quantization: z.string().regex(/^[a-z0-9_-]+$/, "invalid quantization method (e.g. \"awq\", \"gptq\", \"fp8\")").optional().describe("Quantization method, e.g. \"awq\", \"gptq\", \"fp8\" (--quantization)."),
  extra_args: z.array(z.string()).default([]).describe("Extra api_server arguments, appended as given."),
  hf_token_env: hfTokenEnvSchema.optional().describe("Name of the host environment variable holding the Hugging Face token (default HF_TOKEN)."),
  port: z.number().int().min(1).max(65535).optional().describe("Fixed host port for 8000 (default: a random free port)."),
  shm_size_mb: z.number().int().positive().default(1024).describe("/dev/shm size in MiB (tensor parallelism needs a large one)."),
  model_cache: modelCacheSchema(CACHE_VOLUME).describe("Named volume caching Hugging Face downloads across runs (shared with tgi); false: no cache."),
  env: envSchema.default({}).describe("Extra environment (VLLM_* settings)."),
});

export type VllmConfig = z.output<typeof configSchema>;

/** The api_server arguments (the image's entrypoint runs the server; the plugin passes only these). */
export function toArgs(config: VllmConfig): string[] {
  const args = ["--model", config.model, "--port", String(VLLM_PORT)];
  if (config.gpus > 0) args.push("--tensor-parallel-size", String(config.gpus));
  if (config.max_model_len !== undefined) args.push("--max-model-len", String(config.max_model_len));
  if (config.gpu_memory_utilization !== undefined) args.push("--gpu-memory-utilization", String(config.gpu_memory_utilization));
  if (config.dtype) args.push("--dtype", config.dtype);
  if (config.quantization) args.push("--quantization", config.quantization);
  return [...args, ...config.extra_args];
}

/**
 * The ContainerSpec this plugin runs (plain data). `hostEnv` is where the HF token is read from
 * (process.env at start). Readiness is polled by the plugin: GET /health, then /v1/models.
 */
export function toContainerSpec(config: VllmConfig, hostEnv: Readonly<Record<string, string | undefined>> = process.env): ContainerSpec {
  const spec = hfServerSpec(config, { port: VLLM_PORT, cacheTarget: CACHE_TARGET, command: toArgs(config) }, hostEnv);
  if (config.gpus > 0) spec.gpus = { count: config.gpus, capabilities: ["gpu"] };
  return spec;
}

export default definePlugin({
  type: "vllm",
  description: "vLLM OpenAI-compatible server (vllm/vllm-openai): model, GPUs/tensor parallelism, HF token, cached downloads",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => [...HTTP_SERVER_OUTPUTS, "model"],
  defaults: { startupTimeoutMs: 15 * 60_000 },
  create(config) {
    return hfServerPlugin({
      server: "vllm",
      model: config.model,
      hfTokenEnv: config.hf_token_env,
      port: VLLM_PORT,
      readinessPath: READINESS_PATH,
      urlPath: "/v1",
      gpu: config.gpus > 0 ? "required" : "off",
      spec: () => toContainerSpec(config, process.env),
      serves: {
        path: MODELS_PATH,
        verb: "list",
        hint: "the server is up but serves another model name: check `model` and --served-model-name in extra_args",
        accept: (body: { data?: Array<{ id?: string }> }) => {
          const ids = (body.data ?? []).map((m) => m.id ?? "");
          return ids.includes(config.model) || `listed: ${ids.join(", ") || "none"}`;
        },
      },
    });
  },
});
