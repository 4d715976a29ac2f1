import { type ContainerSpec, definePlugin } from "@clnrm/plugin-api";
import { envSchema, z } from "@clnrm/plugin-kit";
import { HTTP_SERVER_OUTPUTS, hfServerPlugin, hfServerSpec, hfTokenEnvSchema, modelCacheSchema } from "@clnrm/plugin-kit";

export const DEFAULT_IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.0";
export const TGI_PORT = 80;
export const READINESS_PATH = "/health";
export const INFO_PATH = "/info";
/** The same volume vllm uses: TGI's /data is an HF_HOME, so downloaded models are shared. */
export const CACHE_VOLUME = "clnrm-model-cache-hf";
export const CACHE_TARGET = "/data";

export const QUANTIZE = ["bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4", "gptq", "awq", "eetq", "exl2", "marlin", "fp8"] as const;

export const configSchema = z.strictObject({
  image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The TGI image; defaults to the pinned upstream image (its entrypoint runs text-generation-launcher)."),
  model_id: z.string().trim().min(1, "model_id must not be empty").describe("Hugging Face model id, e.g. \"bigscience/bloom-560m\"."),
  revision: z.string().trim().min(1).optional().describe("Model revision (a branch, tag or commit on the Hugging Face Hub); --revision."),
  quantize: z.enum(QUANTIZE).optional().describe("Quantization method (--quantize)."),
  num_shard: z.number().int().min(1).max(64).optional().describe("Shards (--num-shard N); also the GPU count unless `gpus` is set."),
  gpus: z.union([z.number().int().min(0).max(64), z.literal("all")]).optional().describe("GPUs to request: a count, \"all\", or 0 for none. Default: num_shard, else \"all\"."),
  shm_size_mb: z.number().int().positive().default(1024).describe("/dev/shm size in MiB (NCCL between shards needs it)."),
  max_input_length: z.number().int().positive().optional().describe("Longest prompt accepted, in tokens (--max-input-length)."),
  max_total_tokens: z.number().int().positive().optional().describe("Longest prompt plus generation, in tokens (--max-total-tokens)."),
  extra_args: z.array(z.string()).default([]).describe("Extra text-generation-launcher arguments, appended as given."),
  hf_token_env: hfTokenEnvSchema.optional().describe("Name of the host environment variable holding the Hugging Face token (default HF_TOKEN)."),
  port: z.number().int().min(1).max(65535).optional().describe("Fixed host port for 80 (default: a random free port)."),
  model_cache: modelCacheSchema(CACHE_VOLUME).describe("Named volume caching Hugging Face downloads across runs (shared with vllm); false: no cache."),
  env: envSchema.default({}).describe("Extra environment of the server."),
});

export type TgiConfig = z.output<typeof configSchema>;

/** The GPU count to request (0: none). */
export function gpuCount(config: TgiConfig): number | "all" {
  return config.gpus ?? config.num_shard ?? "all";
}

/** text-generation-launcher arguments (the image's entrypoint runs the launcher; the plugin passes only these). */
export function toArgs(config: TgiConfig): string[] {
  const args = ["--model-id", config.model_id, "--port", String(TGI_PORT)];
  if (config.revision) args.push("--revision", config.revision);
  if (config.num_shard !== undefined) args.push("--num-shard", String(config.num_shard));
  if (config.quantize) args.push("--quantize", config.quantize);
  if (config.max_input_length !== undefined) args.push("--max-input-length", String(config.max_input_length));
  if (config.max_total_tokens !== undefined) args.push("--max-total-tokens", String(config.max_total_tokens));
  return [...args, ...config.extra_args];
}

/** The ContainerSpec this plugin runs (plain data). Readiness is polled by the plugin: GET /health, then /info. */
export function toContainerSpec(config: TgiConfig, hostEnv: Readonly<Record<string, string | undefined>> = process.env): ContainerSpec {
  const spec = hfServerSpec(config, { port: TGI_PORT, cacheTarget: CACHE_TARGET, command: toArgs(config) }, hostEnv);
  const gpus = gpuCount(config);
  if (gpus !== 0) spec.gpus = { count: gpus, capabilities: ["gpu"] };
  return spec;
}

export default definePlugin({
  type: "tgi",
  description: "Hugging Face Text Generation Inference: model_id, quantization, sharding over GPUs, HF token, cached downloads",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => [...HTTP_SERVER_OUTPUTS, "model"],
  defaults: { startupTimeoutMs: 15 * 60_000 },
  create(config) {
    return hfServerPlugin({
      server: "tgi",
      model: config.model_id,
      hfTokenEnv: config.hf_token_env,
      port: TGI_PORT,
      readinessPath: READINESS_PATH,
      gpu: (spec) => (spec.gpus ? "required" : "off"),
      spec: () => toContainerSpec(config, process.env),
      serves: {
        path: INFO_PATH,
        verb: "report",
        hint: "the server is up but serves another model: check model_id",
        accept: (body: { model_id?: string }) => body.model_id === config.model_id || `model_id is '${body.model_id ?? ""}'`,
      },
    });
  },
});
