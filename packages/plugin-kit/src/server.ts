import type { ContainerSpec, Outputs, RunningContainer, ServicePlugin, StartContext } from "@clnrm/plugin-api";
import { type GpuMode, runWithGpu } from "./gpu.js";
import { http, httpHealth, httpOkCheck } from "./http.js";
import { warnForHfModel } from "./models.js";
import { deadlineFor, waitUntilReady } from "./wait.js";

/** The outputs every httpServerPlugin handle has (a definition's `outputs()` lists them, plus its own). */
export const HTTP_SERVER_OUTPUTS = ["url", "internal_url", "host", "port", "container"] as const;

/** A handle's `data` for a service that is one HTTP server container. */
export interface HttpServerData {
  /** `http://host:port` of the server, as the host reaches it. */
  readonly origin: string;
}

/** An HTTP server container that answered its readiness path, as `ready` and `outputs` see it. */
export interface StartedServer {
  readonly ctx: StartContext;
  readonly container: RunningContainer;
  /** `http://host:port` (from the host). */
  readonly origin: string;
  /** When the plugin's own waits must end (deadlineFor, taken as the start began). */
  readonly deadline: number;
}

/** A JSON endpoint that must name the served model once the server answers (vllm's /v1/models, tgi's /info). */
export interface ServedModelCheck<Body> {
  readonly path: string;
  /** For progress lines: "vllm to list facebook/opt-125m". */
  readonly what: string;
  readonly timeoutMessage: string;
  readonly timeoutHint: string;
  /** True when the body names the model, else why not ("listed: a, b"). */
  accept(body: Body): true | string;
}

export interface HttpServerOptions<Body = unknown> {
  /** The port the server listens on in the container. */
  readonly port: number;
  /** GET path that answers 2xx once the server is up; also the health check. */
  readonly readinessPath: string;
  /** For progress lines and errors while waiting for readinessPath: "vllm to load facebook/opt-125m". */
  readonly what: string;
  /** The TimeoutError's message if readinessPath never answers 2xx (default: `<what> did not finish within <t>`). */
  readonly timeoutMessage?: string;
  /** Appended to the `url` and `internal_url` outputs ("/v1"). */
  readonly urlPath?: string;
  /** GPU request handling (see runWithGpu); `cpuSetting` names the config that turns the GPU off ("gpus = 0"). */
  readonly gpu: GpuMode | ((spec: ContainerSpec) => GpuMode);
  readonly cpuSetting: string;
  /** Runs before the container starts (warnings about tokens and memory, for example). */
  prepare?(ctx: StartContext): void | Promise<void>;
  /** The container to run; called at each start (it may read the host environment). */
  spec(ctx: StartContext): ContainerSpec;
  /** Once readinessPath answers: waits until GET `serves.path` names the model. */
  readonly serves?: ServedModelCheck<Body>;
  /** Runs after that: pull models, for example. */
  ready?(server: StartedServer): Promise<void>;
  /** Outputs besides url, internal_url, host, port and container ("model", for example). */
  outputs?(server: StartedServer): Outputs;
}

/**
 * The ServicePlugin of a service that is one HTTP server container (an LLM server): `start` runs
 * `spec` with the GPU handling of runWithGpu, waits until GET readinessPath answers 2xx, then until
 * `serves` accepts its endpoint's JSON, then runs `ready`; the handle's outputs are `url`, `internal_url`, `host`, `port`, `container` and
 * `outputs(...)`. The health check is "container running and GET readinessPath answers 2xx". No
 * stop: the lifecycle removes the container.
 */
export function httpServerPlugin<Body = unknown>(o: HttpServerOptions<Body>): ServicePlugin<HttpServerData> {
  return {
    async start(ctx) {
      const deadline = deadlineFor(ctx);
      await o.prepare?.(ctx);
      const spec = o.spec(ctx);
      const container = await runWithGpu(ctx, spec, typeof o.gpu === "function" ? o.gpu(spec) : o.gpu, o.cpuSetting);
      const port = container.mappedPort(o.port);
      const origin = `http://${container.host}:${port}`;
      await waitUntilReady({
        ctx,
        container,
        deadline,
        what: o.what,
        ...(o.timeoutMessage ? { timeoutMessage: o.timeoutMessage } : {}),
        check: httpOkCheck(origin, o.readinessPath),
      });
      const server: StartedServer = { ctx, container, origin, deadline };
      const { serves } = o;
      if (serves) {
        const { path: servesPath, accept, ...wait } = serves;
        await waitUntilReady({ ...server, ...wait, check: httpJsonCheck(origin, servesPath, accept) });
      }
      await o.ready?.(server);
      const path = o.urlPath ?? "";
      const outputs: Outputs = {
        url: `${origin}${path}`,
        internal_url: `http://${ctx.service}:${o.port}${path}`,
        host: container.host,
        port,
        container: container.name,
        ...o.outputs?.(server),
      };
      return { service: ctx.service, primary: container, containers: [container], outputs, data: { origin } };
    },
    healthCheck(handle) {
      return httpHealth(handle.primary, handle.data?.origin, o.readinessPath);
    },
  };
}

/**
 * A `waitUntilReady` check: GET origin+path answers 2xx with JSON for which `accept` returns true
 * (else its reason); a non-2xx answer is the reason `GET <path> answered <status>`.
 */
export function httpJsonCheck<T>(origin: string, path: string, accept: (body: T) => true | string, timeoutMs = 3_000): () => Promise<true | string> {
  return async () => {
    const r = await http(`${origin}${path}`, { timeoutMs });
    if (!r.ok) {
      await r.body?.cancel();
      return `GET ${path} answered ${r.status}`;
    }
    return accept((await r.json()) as T);
  };
}

export interface HfServerPluginOptions<Body> extends Pick<HttpServerOptions<Body>, "port" | "readinessPath" | "urlPath" | "gpu" | "spec"> {
  /** "vllm": names the server in progress lines and errors. */
  readonly server: string;
  /** The Hugging Face model id it serves (also the `model` output). */
  readonly model: string;
  /** The config's `hf_token_env` (a warning when that host variable is unset). */
  readonly hfTokenEnv: string | undefined;
  /** The JSON endpoint that names the served model: "<server> does not <verb> model '<model>' in <path>" if it never does. */
  readonly serves: { readonly path: string; readonly verb: string; readonly hint: string; accept(body: Body): true | string };
}

/**
 * httpServerPlugin for a Hugging Face model server (vllm, tgi): the HF token and memory warnings
 * before the start, "gpus = 0" as the setting that turns the GPU off, waits and errors that name
 * the model, and the `model` output.
 */
export function hfServerPlugin<Body>(o: HfServerPluginOptions<Body>): ServicePlugin<HttpServerData> {
  const { server, model, hfTokenEnv, serves, ...http } = o;
  return httpServerPlugin({
    ...http,
    what: `${server} to load ${model}`,
    timeoutMessage: `${server} did not load model '${model}' in time`,
    cpuSetting: "gpus = 0",
    prepare: (ctx) => warnForHfModel(ctx, model, hfTokenEnv),
    serves: {
      path: serves.path,
      what: `${server} to ${serves.verb} ${model}`,
      timeoutMessage: `${server} does not ${serves.verb} model '${model}' in ${serves.path}`,
      timeoutHint: serves.hint,
      accept: serves.accept,
    },
    outputs: () => ({ model }),
  });
}
