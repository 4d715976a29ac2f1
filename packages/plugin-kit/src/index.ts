/** Helpers for clnrm plugin authors. Test helpers: `@clnrm/plugin-kit/testing`. */
export { CACHE_LABELS, modelCacheMount, modelCacheSchema } from "./cache.js";
export { engineCapabilities, type GpuMode, isNoGpuRuntimeError, runWithGpu } from "./gpu.js";
export { http, httpHealth, httpOkCheck } from "./http.js";
export { logTail, withTail } from "./logs.js";
export {
  DEFAULT_HF_TOKEN_ENV,
  HF_TOKEN_VARS,
  type HfServerConfig,
  hfServerSpec,
  hfTokenEnv,
  hfTokenEnvSchema,
  modelMemoryGiB,
  warnForHfModel,
  warnIfHfTokenMissing,
  warnIfModelsShortOfMemory,
  warnIfShortOfMemory,
} from "./models.js";
export { fixedHostPortSchema } from "./ports.js";
export { HTTP_SERVER_OUTPUTS, type HfServerPluginOptions, hfServerPlugin, type HttpServerData, type HttpServerOptions, httpJsonCheck, httpServerPlugin, type ServedModelCheck, type StartedServer } from "./server.js";
export { deadlineFor, type WaitOptions, waitUntilReady } from "./wait.js";
// The runtime helpers plugins share (config fragments, timing, zod): a plugin imports the contract
// from @clnrm/plugin-api and these from here, never @clnrm/core itself.
export {
  capabilitySchema,
  checkSensitiveMounts,
  commandSchema,
  describeSpecNotices,
  durationSchema,
  envSchema,
  fmtMs,
  healthCheckSchema,
  healthCheckToProbe,
  portSchema,
  SECRET_KEY_RE,
  sleep,
  volumeSchema,
  volumesToMounts,
  z,
} from "@clnrm/core";
