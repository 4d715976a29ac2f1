export { BUILTIN_PLUGINS, type BuiltinPlugin, builtinTypes } from "./builtins.js";
export { type InstalledPlugin, findInstalledPackage, listInstalledPlugins } from "./list.js";
export { type PluginOrigin, type SearchRoot, addCliDir, searchRoots } from "./roots.js";
export { ALLOW_EXTERNAL_PLUGINS_ENV, type LoadedPlugin, PluginLoader, type PluginLoaderOptions, type ResolveOptions, resolvePlugin } from "./loader.js";
export { type ClnrmManifest, type PackageJson, clnrmManifest, declaresPlugin, readPackageJson, runningCoreVersion } from "./manifest.js";
export { assertExplicitPackage, assertPluginTypeName, candidatesFor } from "./names.js";
export {
  DEFAULT_REGISTRY,
  type ReadRegistryConfigOptions,
  type RegistryConfig,
  authHeader,
  parseNpmrc,
  projectRoot,
  readRegistryConfig,
  registryFor,
} from "./npmrc.js";
export { type PackageManager, addArgs, detectPackageManager, installCommand, removeArgs } from "./package-manager.js";
export {
  PLUGIN_KEYWORD,
  coreSatisfies,
  type RegistryClientOptions,
  type RegistryPackageInfo,
  type SearchResult,
  fetchPackageInfo,
  findPluginPackage,
  incompatibility,
  packageForName,
  searchPlugins,
} from "./registry.js";
export { type ScaffoldOptions, type ScaffoldResult, pluginNames, scaffoldFiles, scaffoldPlugin } from "./scaffold.js";
