/**
 * `@clnrm/marketplace/list`: listing installed plugins from package.json files only. It imports neither
 * @clnrm/core nor semver, so `clnrm plugins` starts fast.
 */
export { BUILTIN_PLUGINS, type BuiltinPlugin, builtinTypes } from "./builtins.js";
export { type InstalledPlugin, findInstalledPackage, listInstalledPlugins } from "./list.js";
export { type PluginOrigin, type SearchRoot, addCliDir, searchRoots } from "./roots.js";
