import { ContainerError, type ContainerSpec, type EngineCapabilities, type RunningContainer, runOptions, type StartContext } from "@clnrm/plugin-api";

/** "off": no GPU; "required": fail clearly without an NVIDIA runtime; "auto": GPU if available. */
export type GpuMode = "off" | "required" | "auto";

/** The engine's capabilities, or undefined when the backend cannot tell (not implemented, or it failed). */
export async function engineCapabilities(ctx: StartContext): Promise<EngineCapabilities | undefined> {
  if (!ctx.backend.capabilities) return undefined;
  try {
    return await ctx.backend.capabilities();
  } catch (err) {
    ctx.log.debug(`engine capabilities unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** True for the engine's answer to a GPU request it has no driver for. */
export function isNoGpuRuntimeError(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; i++, e = (e as { cause?: unknown }).cause) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/could not select device driver|unknown or invalid runtime name: nvidia|nvidia-container-cli/i.test(msg)) return true;
  }
  return false;
}

function noGpuRuntime(ctx: StartContext, fixKey: string, cause?: unknown): ContainerError {
  return new ContainerError(`GPU requested but the Docker engine has no NVIDIA runtime; install nvidia-container-toolkit or set ${fixKey}`, {
    code: "CLNRM_ERR_GPU_UNAVAILABLE",
    service: ctx.service,
    hint: "`docker info` must list the nvidia runtime; see https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/",
    environment: true,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs the spec through ctx.backend (so that a failed start releases it), honouring `mode` for its
 * GPU request. When the backend reports capabilities, the decision is made up front: "required"
 * fails clearly without starting anything, "auto" drops the GPU request. Otherwise the GPU start is
 * tried, and the engine's "no driver" answer becomes that same error ("required") or a CPU start
 * ("auto"). `fixKey` names the config that turns the GPU off ("gpus = 0").
 */
export async function runWithGpu(ctx: StartContext, spec: ContainerSpec, mode: GpuMode, fixKey: string): Promise<RunningContainer> {
  const options = runOptions(ctx);
  const { gpus: _omit, ...cpu } = spec;
  const onCpu = () => {
    ctx.log.progress("no NVIDIA runtime on the Docker engine: running on CPU");
    return ctx.backend.run(cpu, options);
  };
  if (mode === "off" || !spec.gpus) return ctx.backend.run(cpu, options);
  const caps = await engineCapabilities(ctx);
  if (caps) {
    if (caps.gpu) return ctx.backend.run(spec, options);
    if (mode === "required") throw noGpuRuntime(ctx, fixKey);
    return onCpu();
  }
  try {
    return await ctx.backend.run(spec, options);
  } catch (err) {
    if (!isNoGpuRuntimeError(err)) throw err;
    if (mode === "required") throw noGpuRuntime(ctx, fixKey, err);
    return onCpu();
  }
}
