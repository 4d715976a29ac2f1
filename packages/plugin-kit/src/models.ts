/** Helpers shared by LLM server plugins (ollama, vllm, tgi): model memory needs and the Hugging Face token. */
import { totalmem } from "node:os";
import type { ContainerSpec, PluginLogger, StartContext } from "@clnrm/plugin-api";
import { z } from "@clnrm/core";
import { modelCacheMount } from "./cache.js";
import { engineCapabilities } from "./gpu.js";

/** Approximate RAM (GiB) well-known models need. */
const KNOWN_MODELS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^tinyllama(:|$)/, 1],
  [/opt-125m$/, 1],
  [/^(qwen2\.5|qwen2):0\.5b/, 1],
  [/bloom-560m$/, 2],
  [/^llama2:13b|llama-2-13b/, 16],
  [/^llama2:70b|llama-2-70b/, 64],
  [/^llama2(:7b|:latest)?$|llama-2-7b/, 8],
  [/^llama3(\.1)?(:8b|:latest)?$|llama-3(\.1)?-8b/, 8],
  [/^mistral(:7b|:latest)?$|mistral-7b/, 8],
  [/^mixtral(:8x7b|:latest)?$|mixtral-8x7b/, 32],
  [/^phi3(:mini|:latest)?$|phi-3-mini/, 4],
  [/^gemma:2b|gemma-2b/, 3],
  [/^gemma(:7b|:latest)?$|gemma-7b/, 9],
  [/^codellama(:7b|:latest)?$|codellama-7b/, 8],
];

/** Approximate RAM (GiB) a model needs (Ollama names or Hugging Face ids); undefined if unknown. */
export function modelMemoryGiB(model: string): number | undefined {
  const m = model.toLowerCase();
  return KNOWN_MODELS.find(([re]) => re.test(m))?.[1];
}

/** Warns when a known model needs more memory than `availableBytes` (of `where`). Returns whether it warned. */
export function warnIfShortOfMemory(log: PluginLogger, model: string, availableBytes = totalmem(), where = "this machine"): boolean {
  const need = modelMemoryGiB(model);
  if (need === undefined) return false;
  const have = availableBytes / 1024 ** 3;
  if (have >= need) return false;
  log.warn(`model '${model}' needs about ${need} GiB of memory but ${where} has ${have.toFixed(1)} GiB; it may fail to load or be very slow`);
  return true;
}

/**
 * warnIfShortOfMemory for each model, against the engine's memory when the backend reports it
 * (the VM's under Docker Desktop), else the host's (os.totalmem()).
 */
export async function warnIfModelsShortOfMemory(ctx: StartContext, models: readonly string[]): Promise<void> {
  if (!models.some((m) => modelMemoryGiB(m) !== undefined)) return;
  const caps = await engineCapabilities(ctx);
  const [bytes, where] = caps && caps.memoryBytes > 0 ? [caps.memoryBytes, `the ${ctx.backend.name} engine`] : [totalmem(), "this machine"];
  for (const m of models) warnIfShortOfMemory(ctx.log, m, bytes, where);
}

/** The Hugging Face token is read from the host's environment at start (never from the test file). */
export const DEFAULT_HF_TOKEN_ENV = "HF_TOKEN";
export const HF_TOKEN_VARS = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] as const;

/** The `hf_token_env` config key: the name of the host variable holding the token. */
export const hfTokenEnvSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

/** Warns when `hf_token_env` names a host variable that is not set (the default HF_TOKEN may be absent). */
export function warnIfHfTokenMissing(log: PluginLogger, hfTokenEnvName: string | undefined, hostEnv: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (!hfTokenEnvName || hostEnv[hfTokenEnvName]) return false;
  log.warn(`environment variable ${hfTokenEnvName} (hf_token_env) is not set: gated models will fail to download`);
  return true;
}

/**
 * The start-time warnings of a Hugging Face model server (vllm, tgi): `hf_token_env` names an unset
 * host variable; the model needs more memory than the engine has.
 */
export async function warnForHfModel(ctx: StartContext, model: string, hfTokenEnvName: string | undefined): Promise<void> {
  warnIfHfTokenMissing(ctx.log, hfTokenEnvName);
  await warnIfModelsShortOfMemory(ctx, [model]);
}

/** Env entries carrying the token (both names the HF libraries read), or {} when it is not set. */
export function hfTokenEnv(token: string | undefined): Record<string, string> {
  if (!token) return {};
  return Object.fromEntries(HF_TOKEN_VARS.map((k) => [k, token]));
}

/** The config keys a Hugging Face model server (vllm, tgi) turns into its container. */
export interface HfServerConfig {
  image: string;
  env: Record<string, string>;
  hf_token_env?: string | undefined;
  /** Fixed host port for the server's port (default: a random free one). */
  port?: number | undefined;
  model_cache: string | false;
  shm_size_mb: number;
}

/**
 * The part of a Hugging Face model server's spec that vllm and tgi share: the image with `command`
 * as its arguments, the HF token from `hostEnv` (as secret env), one published port, the model
 * cache mounted at `cacheTarget`, and /dev/shm. The caller adds GPUs.
 */
export function hfServerSpec(
  config: HfServerConfig,
  server: { port: number; cacheTarget: string; command: string[] },
  hostEnv: Readonly<Record<string, string | undefined>>,
): ContainerSpec {
  const token = hostEnv[config.hf_token_env ?? DEFAULT_HF_TOKEN_ENV];
  const spec: ContainerSpec = {
    image: config.image,
    env: { ...config.env, ...hfTokenEnv(token) },
    command: server.command,
    ports: [config.port === undefined ? { container: server.port } : { container: server.port, host: config.port }],
    mounts: config.model_cache === false ? [] : [modelCacheMount(config.model_cache, server.cacheTarget)],
    resources: { shmSizeMb: config.shm_size_mb },
  };
  if (token) spec.secretEnv = [...HF_TOKEN_VARS];
  return spec;
}
