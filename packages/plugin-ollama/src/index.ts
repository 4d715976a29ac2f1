import { ContainerError, type ContainerSpec, definePlugin, type PluginLogger, type RunningContainer, type StartContext, TimeoutError } from "@clnrm/plugin-api";
import { envSchema, fmtMs, z } from "@clnrm/plugin-kit";
import { type GpuMode, HTTP_SERVER_OUTPUTS, http, httpServerPlugin, modelCacheMount, modelCacheSchema, waitUntilReady, warnIfModelsShortOfMemory, withTail } from "@clnrm/plugin-kit";

export const DEFAULT_IMAGE = "ollama/ollama:0.6.5";
export const OLLAMA_PORT = 11434;
export const READINESS_PATH = "/api/version";
export const CACHE_VOLUME = "clnrm-model-cache-ollama";
export const CACHE_TARGET = "/root/.ollama";

const modelName = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._/-]*(:[a-zA-Z0-9._-]+)?$/, "invalid model name (expected e.g. \"llama2\" or \"llama2:13b\")");

export const configSchema = z
  .strictObject({
    image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The ollama image; defaults to the pinned upstream image."),
    model: modelName.optional().describe("A model to pull after start (\"llama2\", \"llama2:13b\")."),
    models: z.array(modelName).default([]).describe("Several models to pull."),
    port: z.number().int().min(1).max(65535).optional().describe("Fixed host port for 11434 (default: a random free port)."),
    gpu_enabled: z.boolean().optional().describe("true: require a GPU; false: CPU only."),
    gpu: z.union([z.boolean(), z.literal("auto")]).optional().describe("true / false like gpu_enabled, or \"auto\": GPU when the engine has one, CPU otherwise."),
    model_cache: modelCacheSchema(CACHE_VOLUME).describe("Named volume that caches models across runs; false: no cache (models are pulled every run)."),
    env: envSchema.default({}).describe("Extra environment (OLLAMA_* settings)."),
  })
  .superRefine((c, ctx) => {
    if (c.gpu !== undefined && c.gpu_enabled !== undefined) {
      ctx.addIssue({ code: "custom", path: ["gpu"], message: "set either gpu or gpu_enabled, not both" });
    }
  });

export type OllamaConfig = z.output<typeof configSchema>;

export function gpuMode(config: OllamaConfig): GpuMode {
  const g = config.gpu ?? config.gpu_enabled ?? false;
  return g === "auto" ? "auto" : g ? "required" : "off";
}

/** The models to pull, in order, without duplicates. */
export function modelsOf(config: OllamaConfig): string[] {
  return [...new Set([...(config.model ? [config.model] : []), ...config.models])];
}

/** The ContainerSpec this plugin runs (plain data). Readiness is polled by the plugin: GET READINESS_PATH. */
export function toContainerSpec(config: OllamaConfig): ContainerSpec {
  const spec: ContainerSpec = {
    image: config.image,
    env: { OLLAMA_HOST: `0.0.0.0:${OLLAMA_PORT}`, ...config.env },
    ports: [config.port === undefined ? { container: OLLAMA_PORT } : { container: OLLAMA_PORT, host: config.port }],
    mounts: config.model_cache === false ? [] : [modelCacheMount(config.model_cache, CACHE_TARGET)],
  };
  if (gpuMode(config) !== "off") spec.gpus = { count: "all", capabilities: ["gpu"] };
  return spec;
}

/** "llama2" and "llama2:latest" are the same model. */
export function sameModel(a: string, b: string): boolean {
  const full = (s: string) => (s.includes(":") ? s : `${s}:latest`);
  return full(a) === full(b);
}

const GB = 1e9;

/**
 * Tracks an Ollama pull stream (NDJSON) and turns it into throttled progress lines:
 * "pulling llama2: 42% (1.2/2.9 GB)". Returns the error of an `{"error": ...}` line, if any.
 */
export class PullProgress {
  readonly #layers = new Map<string, { total: number; completed: number }>();
  #last = 0;
  #lastStatus = "";
  success = false;
  error: string | undefined;
  constructor(
    readonly model: string,
    readonly log: PluginLogger,
    readonly minIntervalMs = 500,
    readonly now: () => number = Date.now,
  ) {}

  line(raw: string): void {
    const text = raw.trim();
    if (!text) return;
    let msg: { status?: string; error?: string; digest?: string; total?: number; completed?: number };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.error) {
      this.error = msg.error;
      return;
    }
    if (msg.status === "success") {
      this.success = true;
      return;
    }
    if (msg.digest && typeof msg.total === "number") this.#layers.set(msg.digest, { total: msg.total, completed: msg.completed ?? 0 });
    const t = this.now();
    const changed = msg.status !== undefined && !msg.digest && msg.status !== this.#lastStatus;
    if (!changed && t - this.#last < this.minIntervalMs) return;
    this.#last = t;
    if (msg.status) this.#lastStatus = msg.status;
    this.log.progress(this.describe(msg.digest ? undefined : msg.status));
  }

  describe(status?: string): string {
    let total = 0;
    let completed = 0;
    for (const l of this.#layers.values()) {
      total += l.total;
      completed += Math.min(l.completed, l.total);
    }
    if (status) return `pulling ${this.model}: ${status}`;
    if (total === 0) return `pulling ${this.model}`;
    const pct = Math.floor((completed / total) * 100);
    const amount =
      total >= GB ? `${(completed / GB).toFixed(1)}/${(total / GB).toFixed(1)} GB` : `${Math.round(completed / 1e6)}/${Math.round(total / 1e6)} MB`;
    return `pulling ${this.model}: ${pct}% (${amount})`;
  }
}

/** Pulls one model (streamed), reporting progress; throws ContainerError / TimeoutError naming the model. */
export async function pullModel(base: string, model: string, ctx: StartContext, deadline: number, container: RunningContainer): Promise<void> {
  const progress = new PullProgress(model, ctx.log);
  const started = Date.now();
  const timeoutMs = Math.max(1, deadline - started);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
  try {
    const res = await fetch(`${base}/api/pull`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true }),
      signal,
    });
    if (!res.ok || !res.body) {
      const text = (await res.text().catch(() => "")).trim();
      let detail = text;
      try {
        detail = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {}
      throw new ContainerError(`ollama could not pull model '${model}': HTTP ${res.status}${detail ? `: ${detail}` : ""}`, {
        service: ctx.service,
        hint: "check the model name at https://ollama.com/library",
      });
    }
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        progress.line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
      if (progress.error) break;
    }
    progress.line(buf);
  } catch (err) {
    if (err instanceof ContainerError) throw err;
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    if (Date.now() >= deadline - 50 || (err as Error).name === "TimeoutError") {
      throw new TimeoutError(`ollama model '${model}' was not pulled within ${fmtMs(timeoutMs)}${await withTail(container)}`, timeoutMs, {
        service: ctx.service,
        hint: "large models take minutes: raise the service's startup_timeout",
      });
    }
    throw new ContainerError(`ollama pull of model '${model}' failed: ${(err as Error).message}${await withTail(container)}`, {
      service: ctx.service,
      hint: "check the container log",
      cause: err,
    });
  }
  if (progress.error) {
    throw new ContainerError(`ollama could not pull model '${model}': ${progress.error}`, {
      service: ctx.service,
      hint: "check the model name at https://ollama.com/library",
    });
  }
  if (!progress.success) {
    throw new ContainerError(`ollama pull of model '${model}' ended before it succeeded${await withTail(container)}`, {
      service: ctx.service,
      hint: "check the container log and the engine's network access",
    });
  }
  ctx.log.progress(`pulled ${model} in ${fmtMs(Date.now() - started)}`);
}

/** The models /api/tags lists. */
export async function listModels(base: string): Promise<string[]> {
  const res = await http(`${base}/api/tags`);
  if (!res.ok) throw new Error(`GET /api/tags answered ${res.status}`);
  const body = (await res.json()) as { models?: Array<{ name?: string; model?: string }> };
  return (body.models ?? []).map((m) => m.name ?? m.model ?? "").filter(Boolean);
}

export default definePlugin({
  type: "ollama",
  description: "Ollama LLM server (ollama/ollama): pulls models, optional NVIDIA GPU, cached model volume",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => [...HTTP_SERVER_OUTPUTS, "model", "models"],
  defaults: { startupTimeoutMs: 15 * 60_000 },
  create(config) {
    const spec = toContainerSpec(config);
    const models = modelsOf(config);
    return httpServerPlugin({
      port: OLLAMA_PORT,
      readinessPath: READINESS_PATH,
      what: "ollama to start",
      gpu: gpuMode(config),
      cpuSetting: config.gpu !== undefined ? "gpu = false" : "gpu_enabled = false",
      prepare: (ctx) => warnIfModelsShortOfMemory(ctx, models),
      spec: () => spec,
      async ready(server) {
        for (const model of models) {
          await pullModel(server.origin, model, server.ctx, server.deadline, server.container);
          await waitUntilReady({
            ...server,
            what: `ollama to list ${model}`,
            timeoutMessage: `ollama model '${model}' did not appear in /api/tags`,
            timeoutHint: "the pull reported success but the model is not listed: check the container log and disk space",
            check: async () => {
              const names = await listModels(server.origin);
              return names.some((n) => sameModel(n, model)) || `listed: ${names.join(", ") || "none"}`;
            },
          });
        }
      },
      outputs: () => ({ model: models[0] ?? "", models: models.join(",") }),
    });
  },
});
