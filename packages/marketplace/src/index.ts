export { BUILTIN_PLUGINS, type BuiltinPlugin, builtinTypes } from "./builtins.js";
export { type InstalledPlugin, listInstalledPlugins } from "./list.js";
export { type LoadedPlugin, PluginLoader, type PluginLoaderOptions, type ResolveOptions, resolvePlugin } from "./loader.js";
export { type ClnrmManifest, type PackageJson, readPackageJson } from "./manifest.js";
export { assertExplicitPackage, assertPluginTypeName, candidatesFor } from "./names.js";
export { type PackageManager, detectPackageManager, installCommand } from "./package-manager.js";
