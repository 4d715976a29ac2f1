// The plugin contract (types, `definePlugin`, the brand, the API version) lives in
// @clnrm/plugin-api; core is the runtime that loads and runs what it describes.
export * from "@clnrm/plugin-api/plugin";

/**
 * The plugin API versions this runtime can load. The one compatibility rule: a plugin is loadable
 * iff its `apiVersion` is in this list, whatever `@clnrm/core` range its package.json names.
 */
export const SUPPORTED_API_VERSIONS: readonly number[] = [1];
