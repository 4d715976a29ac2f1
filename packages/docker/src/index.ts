// @clnrm/docker: the ContainerBackend on Docker. This file only re-exports; each job has its file:
//   labels.ts          labels and run-scoped volume names
//   host.ts            where the engine is (option, DOCKER_HOST), dockerode options
//   deps.ts            testcontainers and dockerode, loaded on first use (importing this package loads neither)
//   caches.ts          image inspect/pull and volume caches
//   create-options.ts  ContainerSpec -> engine create options (pure)
//   start.ts           one start through testcontainers, raced against exit and cancellation
//   failure.ts         what a failed start means, in one line (pure)
//   probe.ts           the health probe check, shared by the readiness wait (wait.ts) and probe()
//   container.ts       a started container
//   sweep.ts           the orphan sweep and the live runs it leaves alone
//   backend.ts         DockerBackend and the process-wide dockerBackend()
//   lazy-deps.ts       opt-in deferral of testcontainers' optional requires (for the CLI's entry point)
export { DockerBackend, type DockerBackendOptions, dockerBackend } from "./backend.js";
export { DockerContainer } from "./container.js";
export {
  type ContainerPlan,
  type CreateContext,
  KEEP_ALIVE,
  type PlannedVolume,
  type PublishedPort,
  createOptions,
  isBareShell,
} from "./create-options.js";
export { EngineGoneError, engineUnreachable } from "./engine.js";
export { type StartFailure, startFailure } from "./failure.js";
export { dockerodeOptions } from "./host.js";
export { labelsFor, runVolumeName } from "./labels.js";
/** Optional testcontainers dependencies deferred and not loaded yet (see lazy-deps.ts; empty unless the hook is installed). */
export { deferOptionalDependencies, deferredModules } from "./lazy-deps.js";
export { removeNetwork } from "./network.js";
export { type ProbeTarget, checkProbe } from "./probe.js";
export type { DockerSweepReport, LiveRun } from "./sweep.js";
export { demux, execIn, tcpOpen } from "./util.js";
