/** The official scope's plugin prefix. */
export const OFFICIAL_PREFIX = "@clnrm/plugin-";
/** The community naming convention. */
export const COMMUNITY_PREFIX = "clnrm-plugin-";

/** A plugin clnrm knows about by name, whether or not it is installed. */
export interface BuiltinPlugin {
  /** The npm package that provides the type. */
  readonly package: string;
  /** One line for `clnrm plugins list`. */
  readonly description: string;
}

/** The official plugins: service type → `@clnrm/plugin-*` package (`_` becomes `-`). */
export const BUILTIN_PLUGINS: Readonly<Record<string, BuiltinPlugin>> = Object.freeze({
  generic_container: {
    package: "@clnrm/plugin-generic-container",
    description: "Run any container image as a service",
  },
  postgres: { package: "@clnrm/plugin-postgres", description: "PostgreSQL database, with SQL init scripts" },
  surrealdb: { package: "@clnrm/plugin-surrealdb", description: "SurrealDB database" },
  rabbitmq: { package: "@clnrm/plugin-rabbitmq", description: "RabbitMQ broker, with exchanges, queues and bindings declared at start" },
  redis: { package: "@clnrm/plugin-redis", description: "Redis, with a password, databases and init commands" },
  ollama: { package: "@clnrm/plugin-ollama", description: "Ollama LLM server, with model pulls" },
  vllm: { package: "@clnrm/plugin-vllm", description: "vLLM OpenAI-compatible inference server" },
  tgi: { package: "@clnrm/plugin-tgi", description: "Hugging Face Text Generation Inference server" },
  otel_collector: {
    package: "@clnrm/plugin-otel-collector",
    description: "OpenTelemetry Collector that receives and records spans",
  },
  chaos_engine: {
    package: "@clnrm/plugin-chaos-engine",
    description: "Fault injection against other services (pause, kill, network delay)",
  },
});

/** The built-in type names, sorted. */
export function builtinTypes(): string[] {
  return Object.keys(BUILTIN_PLUGINS).sort();
}

/** The built-in type a package provides, if it is an official package. */
export function builtinTypeOfPackage(pkg: string): string | undefined {
  for (const [type, b] of Object.entries(BUILTIN_PLUGINS)) if (b.package === pkg) return type;
  return undefined;
}
