import {
  type ContainerBackend,
  ContainerError,
  type ContainerSpec,
  type EngineCapabilities,
  HealthStatus,
  type RunningContainer,
  ServiceLifecycle,
} from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { type GpuMode, isNoGpuRuntimeError, runWithGpu } from "../src/index.js";
import { captureLog, fakeContainer, fakeStartContext } from "../src/testing.js";

const NO_DRIVER = 'cannot start container: (HTTP code 500) server error - could not select device driver "nvidia" with capabilities: [[gpu]]';
const SPEC: ContainerSpec = { image: "llm", gpus: { count: "all", capabilities: ["gpu"] } };

/** A backend that records the specs it is asked to run; GPU requests fail unless `gpuWorks`. */
function engine(opts: { caps?: EngineCapabilities | Error; gpuWorks?: boolean }) {
  const runs: ContainerSpec[] = [];
  let capsCalls = 0;
  const backend: ContainerBackend = {
    name: "docker",
    ping: async () => {},
    createNetwork: async () => {
      throw new Error("unused");
    },
    sweep: async () => ({ containers: [], networks: [], volumes: [] }),
    run: async (spec): Promise<RunningContainer> => {
      runs.push(spec);
      if (spec.gpus && !opts.gpuWorks) throw new ContainerError(`service 'llm': ${NO_DRIVER}`);
      return fakeContainer();
    },
    ...(opts.caps === undefined
      ? {}
      : {
          capabilities: async () => {
            capsCalls++;
            if (opts.caps instanceof Error) throw opts.caps;
            return opts.caps!;
          },
        }),
  };
  return { backend, runs, capsCalls: () => capsCalls };
}

const caps = (gpu: boolean): EngineCapabilities => ({ gpu, runtimes: gpu ? ["nvidia", "runc"] : ["runc"], memoryBytes: 8 * 1024 ** 3, cpus: 2 });
const start = (backend: ContainerBackend, mode: GpuMode, log = captureLog()) => runWithGpu(fakeStartContext({ backend, log }), SPEC, mode, "gpu = false");

describe("runWithGpu with engine capabilities", () => {
  it("auto without a GPU runtime: decides up front, one CPU start, no failed GPU attempt", async () => {
    const e = engine({ caps: caps(false) });
    const log = captureLog();
    await start(e.backend, "auto", log);
    expect(e.runs).toEqual([{ image: "llm" }]);
    expect(e.capsCalls()).toBe(1);
    expect(log.lines).toEqual(["no NVIDIA runtime on the Docker engine: running on CPU"]);
  });

  it("required without a GPU runtime: a clear error before any container is started", async () => {
    const e = engine({ caps: caps(false) });
    const err = await start(e.backend, "required").catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ContainerError);
    expect((err as Error).message).toBe("GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set gpu = false");
    expect(e.runs).toEqual([]);
  });

  it("auto and required with a GPU runtime: the GPU request is sent; an engine error is not retried on CPU", async () => {
    for (const mode of ["auto", "required"] as const) {
      const ok = engine({ caps: caps(true), gpuWorks: true });
      await start(ok.backend, mode);
      expect(ok.runs).toEqual([SPEC]);
      const broken = engine({ caps: caps(true), gpuWorks: false });
      await expect(start(broken.backend, mode)).rejects.toThrow(/could not select device driver/);
      expect(broken.runs).toEqual([SPEC]);
    }
  });

  it("off never asks the engine and drops the GPU request", async () => {
    const e = engine({ caps: caps(true), gpuWorks: true });
    await start(e.backend, "off");
    expect(e.runs).toEqual([{ image: "llm" }]);
    expect(e.capsCalls()).toBe(0);
  });

  it("is reached through the lifecycle's scoped backend (ctx.backend forwards capabilities)", async () => {
    const e = engine({ caps: caps(false) });
    const log = captureLog();
    const lc = new ServiceLifecycle({
      service: "llm",
      pluginType: "test",
      plugin: {
        start: async (ctx) => {
          const c = await runWithGpu(ctx, SPEC, "auto", "gpu = false");
          return { service: ctx.service, primary: c, containers: [c], outputs: {} };
        },
        healthCheck: async () => HealthStatus.healthy(),
        stop: async () => {},
      },
    });
    await lc.start({ runId: "r", backend: e.backend, network: undefined, baseDir: ".", log, dependencies: {}, services: new Map() });
    await lc.stop();
    expect(e.capsCalls()).toBe(1);
    expect(e.runs).toEqual([{ image: "llm" }]);
  });
});

describe("runWithGpu without engine capabilities", () => {
  it("auto: tries the GPU, falls back to CPU on the engine's no-driver answer", async () => {
    for (const e of [engine({}), engine({ caps: new Error("info failed") })]) {
      const log = captureLog();
      await start(e.backend, "auto", log);
      expect(e.runs).toEqual([SPEC, { image: "llm" }]);
      expect(log.lines).toEqual(["no NVIDIA runtime on the Docker engine: running on CPU"]);
    }
  });

  it("required: the no-driver answer becomes the clear error; other errors pass through", async () => {
    const e = engine({});
    const err = await start(e.backend, "required").catch((x: unknown) => x);
    expect((err as Error).message).toBe("GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set gpu = false");
    expect(isNoGpuRuntimeError((err as Error).cause)).toBe(true);
    const other = engine({});
    other.backend.run = async () => {
      throw new ContainerError("port is already allocated");
    };
    await expect(start(other.backend, "auto")).rejects.toThrow("port is already allocated");
  });

  it("recognises the engine's answer to a GPU request without a driver, also as a cause", () => {
    expect(isNoGpuRuntimeError(new ContainerError(`service 'llm': ${NO_DRIVER}`))).toBe(true);
    expect(isNoGpuRuntimeError(new ContainerError("x", { cause: new Error('could not select device driver "" with capabilities: [[gpu]]') }))).toBe(true);
    expect(isNoGpuRuntimeError(new Error("unknown or invalid runtime name: nvidia"))).toBe(true);
    expect(isNoGpuRuntimeError(new Error("port is already allocated"))).toBe(false);
  });
});
