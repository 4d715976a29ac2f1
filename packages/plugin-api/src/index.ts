/**
 * @clnrm/plugin-api: the contract between clnrm and its service plugins. Types, `definePlugin`,
 * `HealthStatus`, the error family and the capability types; no runtime (that is @clnrm/core).
 * Versioned by the plugin API: its major version is the `apiVersion` it describes.
 */
export * from "./capabilities.js";
export * from "./errors.js";
export * from "./health.js";
export * from "./plugin.js";
export type * from "./spec.js";
