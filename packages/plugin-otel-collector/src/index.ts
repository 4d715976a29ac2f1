import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { type ContainerSpec, definePlugin, HealthStatus, type MountSpec, type Outputs, type PortSpec, type RunningContainer, runOptions, type ServiceHandle, type SpanSink, ValidationError } from "@clnrm/plugin-api";
import { envSchema, portSchema, SECRET_KEY_RE, z } from "@clnrm/plugin-kit";

import { type CollectedSpan, readCollectedSpans } from "./spans.js";

export { type CollectedSpan, flattenTraceRequest, parseSpansJsonl, readCollectedSpans, type SpanAttributeValue, type SpanKindName, type SpanStatusName, spansFileOf } from "./spans.js";

export const DEFAULT_IMAGE = "otel/opentelemetry-collector-contrib:0.123.0";
/** Where the contrib image reads its config by default. */
export const CONFIG_PATH = "/etc/otelcol-contrib/config.yaml";
/** The directory the span file lives in, inside the container (a bind mount of a host temp dir). */
export const SPANS_DIR = "/clnrm";
export const SPANS_FILE = `${SPANS_DIR}/spans.jsonl`;
export const GRPC_PORT = 4317;
export const HTTP_PORT = 4318;
export const HEALTH_PORT = 13133;
/** The name of the file exporter the generated config adds. */
export const FILE_EXPORTER = "file/clnrm";

const hostPort = z.number().int().min(1).max(65535);

export const configSchema = z
  .strictObject({
    image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The collector image; the default is the real contrib image."),
    config_file: z.string().trim().min(1, "config_file must not be empty").optional().describe("Your own collector config (relative to the test file), mounted at /etc/otelcol-contrib/config.yaml."),
    exporters: z.record(z.string().regex(/^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/, "an exporter name is TYPE or TYPE/NAME, e.g. \"otlphttp/honeycomb\""), z.record(z.string(), z.unknown())).optional().describe("Extra exporters for the generated config's traces pipeline: `{ \"otlphttp/vendor\" = { endpoint = \"...\" } }`."),
    ports: z.array(portSchema).optional().describe("Host ports of the receivers, as the spec writes them: `[\"4317:4317\", \"4318:4318\"]` (HOST:CONTAINER; container 4317 is OTLP/gRPC, 4318 OTLP/HTTP; a bare \"4317\" keeps a random host port)."),
    grpc_port: hostPort.optional().describe("Same as `ports = [\"HOST:4317\"]` (the older spelling)."),
    http_port: hostPort.optional().describe("Same as `ports = [\"HOST:4318\"]` (the older spelling)."),
    env: envSchema.default({}).describe("Environment of the collector (for `${env:NAME}` in a config)."),
    user: z.string().trim().min(1).optional().describe("User to run the collector as. Default: the host user, so that clnrm can read the spans file."),
  })
  .superRefine((c, ctx) => {
    if (c.config_file && c.exporters) {
      ctx.addIssue({ code: "custom", path: ["exporters"], message: "exporters only extends the generated config: with config_file, declare them in your config file" });
    }
    if (c.exporters && FILE_EXPORTER in c.exporters) ctx.addIssue({ code: "custom", path: ["exporters", FILE_EXPORTER], message: `'${FILE_EXPORTER}' is reserved for clnrm's span file` });
    c.ports?.forEach((p, i) => {
      const key = p.container === GRPC_PORT ? "grpc_port" : p.container === HTTP_PORT ? "http_port" : undefined;
      if (!key || p.protocol === "udp") {
        ctx.addIssue({ code: "custom", path: ["ports", i], message: `the collector receives on ${GRPC_PORT} (OTLP/gRPC) and ${HTTP_PORT} (OTLP/HTTP) over TCP: map one of those, e.g. "${GRPC_PORT}:${GRPC_PORT}"` });
      } else if (c[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `'${key}' and ports' "${p.container}" entry are the same setting: keep ports = ["${c[key]}:${p.container}"]` });
      } else if (c.ports!.findIndex((q) => q.container === p.container) !== i) {
        ctx.addIssue({ code: "custom", path: ["ports", i], message: `container port ${p.container} is mapped twice` });
      }
    });
  })
  .transform(({ ports, ...c }, ctx) => {
    for (const p of ports ?? []) {
      if (p.host === undefined) continue;
      if (p.container === GRPC_PORT) c.grpc_port = p.host;
      else c.http_port = p.host;
    }
    if (c.grpc_port !== undefined && c.grpc_port === c.http_port) {
      ctx.addIssue({ code: "custom", path: [ports ? "ports" : "http_port"], message: "the gRPC (4317) and HTTP (4318) receivers need different host ports" });
    }
    return c;
  });

export type OtelCollectorConfig = z.output<typeof configSchema>;

/** The collector config clnrm generates when there is no config_file (JSON, which is valid YAML). */
export function generateCollectorConfig(config: Pick<OtelCollectorConfig, "exporters">): Record<string, unknown> {
  const extra = config.exporters ?? {};
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${GRPC_PORT}` }, http: { endpoint: `0.0.0.0:${HTTP_PORT}` } } } },
    extensions: { health_check: { endpoint: `0.0.0.0:${HEALTH_PORT}` } },
    exporters: { [FILE_EXPORTER]: { path: SPANS_FILE, format: "json", flush_interval: "100ms" }, ...extra },
    service: {
      extensions: ["health_check"],
      pipelines: { traces: { receivers: ["otlp"], exporters: [FILE_EXPORTER, ...Object.keys(extra)] } },
    },
  };
}

/** Host paths the spec mounts: the config file (user's or generated) and the span directory. */
export interface HostPaths {
  configFile: string;
  spansDir: string;
}

export function resolveConfigFile(config: OtelCollectorConfig, baseDir: string): string | undefined {
  if (!config.config_file) return undefined;
  return isAbsolute(config.config_file) ? config.config_file : resolve(baseDir, config.config_file);
}

function defaultUser(): string | undefined {
  return typeof process.getuid === "function" && typeof process.getgid === "function" ? `${process.getuid()}:${process.getgid()}` : undefined;
}

/** The ContainerSpec for a config, given the host paths to mount: plain data. */
export function toContainerSpec(config: OtelCollectorConfig, paths: HostPaths): ContainerSpec {
  const ports: PortSpec[] = [
    config.grpc_port === undefined ? { container: GRPC_PORT } : { container: GRPC_PORT, host: config.grpc_port },
    config.http_port === undefined ? { container: HTTP_PORT } : { container: HTTP_PORT, host: config.http_port },
    { container: HEALTH_PORT },
  ];
  const mounts: MountSpec[] = [
    { type: "bind", source: paths.configFile, target: CONFIG_PATH, readOnly: true },
    { type: "bind", source: paths.spansDir, target: SPANS_DIR },
  ];
  const spec: ContainerSpec = {
    image: config.image,
    entrypoint: ["/otelcol-contrib"],
    command: ["--config", CONFIG_PATH],
    env: config.env,
    ports,
    mounts,
    health: { kind: "http", port: HEALTH_PORT, path: "/" },
    keepAlive: false,
  };
  const user = config.user ?? defaultUser();
  if (user) spec.user = user;
  const secretEnv = Object.keys(config.env).filter((k) => SECRET_KEY_RE.test(k));
  if (secretEnv.length) spec.secretEnv = secretEnv;
  return spec;
}

export interface OtelCollectorData {
  /** Host path of the JSON-lines file the collector writes spans to. */
  spansFile: string;
  /** The host temp dir clnrm created (removed on stop). */
  workDir: string;
  /** Every span received so far (`readCollectedSpans` of the spans file). */
  readSpans(): Promise<CollectedSpan[]>;
}

/**
 * The span sink capability: the OTLP/HTTP endpoint clnrm exports its own spans to, and the spans
 * read back from the file exporter's file, for `[[expect.spans]]`.
 */
export const spanSink: SpanSink<ServiceHandle<OtelCollectorData>> = {
  otlpHttpEndpoint(handle) {
    const ep = handle.outputs.otlp_http_endpoint;
    if (typeof ep !== "string") throw new ValidationError(`service '${handle.service}' has no otlp_http_endpoint output: it is not an OpenTelemetry collector handle`, { service: handle.service });
    return ep;
  },
  readSpans: (handle) => (handle.data ? handle.data.readSpans() : readCollectedSpans(handle)),
};

export function collectorOutputs(container: RunningContainer, service: string, spansFile: string): Outputs {
  const http = container.mappedPort(HTTP_PORT);
  const grpc = container.mappedPort(GRPC_PORT);
  return {
    host: container.host,
    http_port: http,
    grpc_port: grpc,
    health_port: container.mappedPort(HEALTH_PORT),
    otlp_http_endpoint: `http://${container.host}:${http}`,
    otlp_grpc_endpoint: `http://${container.host}:${grpc}`,
    internal_otlp_http_endpoint: `http://${service}:${HTTP_PORT}`,
    internal_otlp_grpc_endpoint: `http://${service}:${GRPC_PORT}`,
    spans_file: spansFile,
  };
}

const CONFIG_FILE_HINT = "config_file is resolved relative to the test file; fix the path or remove it to use the generated config";

/** Why a resolved config_file can't be mounted, if it can't. */
function configFileProblem(file: string | undefined): string | undefined {
  if (!file || (existsSync(file) && statSync(file).isFile())) return undefined;
  return `config_file ${file} ${existsSync(file) ? "is not a file" : "does not exist"}`;
}

export default definePlugin({
  type: "otel_collector",
  description: "OpenTelemetry collector (contrib): OTLP gRPC/HTTP receiver, spans written to a file clnrm reads back for span expectations",
  configSchema,
  capabilities: { spanSink },
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => ["host", "http_port", "grpc_port", "health_port", "otlp_http_endpoint", "otlp_grpc_endpoint", "internal_otlp_http_endpoint", "internal_otlp_grpc_endpoint", "spans_file"],
  check(config, { baseDir }) {
    const problem = configFileProblem(resolveConfigFile(config, baseDir));
    return problem ? [{ path: ["config_file"], message: `${problem} (${CONFIG_FILE_HINT})` }] : [];
  },
  create(config, { baseDir }) {
    const userConfig = resolveConfigFile(config, baseDir);
    let workDir: string | undefined;
    const cleanup = () => {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      workDir = undefined;
    };

    /** Creates (once per instance) the temp dir with the generated config and the span dir. */
    function prepare(service: string): HostPaths & { spansFile: string; workDir: string } {
      const problem = configFileProblem(userConfig);
      if (problem) throw new ValidationError(`service '${service}': ${problem}`, { service, hint: CONFIG_FILE_HINT });
      if (!workDir) {
        workDir = mkdtempSync(join(tmpdir(), "clnrm-otel-"));
        process.once("exit", cleanup);
      }
      const spansDir = join(workDir, "spans");
      mkdirSync(spansDir, { recursive: true });
      // The real image runs as a non-root user: let whichever user it runs as write the span file.
      chmodSync(spansDir, 0o777);
      const spansFile = join(spansDir, "spans.jsonl");
      rmSync(spansFile, { force: true });
      let configFile = userConfig;
      if (!configFile) {
        configFile = join(workDir, "config.json");
        writeFileSync(configFile, `${JSON.stringify(generateCollectorConfig(config), null, 2)}\n`);
        chmodSync(configFile, 0o644);
      }
      return { configFile, spansDir, spansFile, workDir };
    }

    return {
      async start(ctx) {
        const paths = prepare(ctx.service);
        const container = await ctx.backend.run(toContainerSpec(config, paths), runOptions(ctx));
        const data: OtelCollectorData = { spansFile: paths.spansFile, workDir: paths.workDir, readSpans: () => readCollectedSpans(paths.spansFile) };
        return { service: ctx.service, primary: container, containers: [container], outputs: collectorOutputs(container, ctx.service, paths.spansFile), data };
      },
      async healthCheck(handle) {
        const c = handle.primary;
        if (!c) return HealthStatus.unknown("no container");
        const state = await c.state();
        if (!state.running) {
          const tail = (await c.logs({ tail: 5 }).catch(() => "")).trim();
          return HealthStatus.failed(`collector exited with code ${state.exitCode ?? "?"}${tail ? `; last log lines: ${tail.replace(/\s*\n\s*/g, " | ")}` : ""}`);
        }
        if (!(await c.probe())) return HealthStatus.unhealthy(`health_check extension (http :${HEALTH_PORT}/) is not answering`);
        return HealthStatus.healthy();
      },
      // The lifecycle removes the container; this removes the host temp dir.
      async stop() {
        cleanup();
        process.removeListener("exit", cleanup);
      },
    };
  },
});
