import { createRequire, isBuiltin } from "node:module";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type BrandedDefinition,
  type PluginDefinition,
  PluginNotFoundError,
  SUPPORTED_API_VERSIONS,
  ValidationError,
  didYouMean,
  isPluginDefinition,
  isSupportedDefinition,
  realPath,
} from "@clnrm/core";
import { builtinTypes } from "./builtins.js";
import { ancestors, listInstalledPlugins } from "./list.js";
import {
  type PackageJson,
  clnrmManifest,
  declaresPlugin,
  findPackageRoot,
  isDirectory,
  isFile,
  packageEntry,
  readPackageJson,
  runningCoreVersion,
} from "./manifest.js";
import { candidatesFor, isRelativePath } from "./names.js";
import { type PluginOrigin, type SearchRoot, searchRoots } from "./roots.js";
import { projectRoot } from "./npmrc.js";
import { detectPackageManager, installCommand } from "./package-manager.js";

export interface ResolveOptions {
  /** The directory of the test file: packages resolve from here, walking up like Node does. */
  readonly projectDir: string;
  /** The service table's `package = "..."`: a package name or a path relative to `projectDir`. */
  readonly explicitPackage?: string;
}

/** A plugin definition loaded and checked, with where it came from. */
export interface LoadedPlugin {
  readonly type: string;
  readonly definition: PluginDefinition;
  /** The candidate that matched: a package name, or the explicit relative path as written. */
  readonly package: string;
  /** The package's version, when it has a package.json. */
  readonly version: string | undefined;
  /** True for `@clnrm/*` packages. */
  readonly official: boolean;
  /** The package directory; undefined for a single-file local plugin. */
  readonly packageDir: string | undefined;
  /** The module that was imported. */
  readonly entry: string;
  /** `name@version` or the path: where the definition came from, for messages and `clnrm plugins`. */
  readonly source: string;
  /** Where it was found: the test file's project, the cwd's project, or beside the running CLI. */
  readonly from: PluginOrigin;
}

export interface PluginLoaderOptions {
  /** The running @clnrm/core version, for messages only (default: read from its package.json). */
  readonly coreVersion?: string;
  /** The plugin API versions this clnrm loads (default: core's SUPPORTED_API_VERSIONS). */
  readonly supportedApiVersions?: readonly number[];
  /** The directory whose project is searched after the test file's (default: process.cwd() at each call). */
  readonly cwd?: string;
  /** The directories searched last (default: beside the running CLI, see addCliDir). */
  readonly cliDirs?: readonly string[];
}

/** A package found on disk, not yet imported. */
interface Located {
  readonly spec: string;
  /** package.json `name`, else the spec. */
  readonly name: string;
  readonly dir: string | undefined;
  readonly pkg: PackageJson | undefined;
  readonly entry: string;
  readonly from: PluginOrigin;
}

interface Imported {
  /** Branded definitions of any API version: `#load` checks the version of the one it returns. */
  readonly definitions: readonly BrandedDefinition[];
}

function label(l: Located): string {
  const version = l.pkg?.version;
  return typeof version === "string" ? `${l.name}@${version}` : l.name;
}

/**
 * Resolves service types to plugin definitions from a user's project.
 *
 * The one compatibility rule: a plugin is loadable iff its plugin API version (`clnrm.apiVersion`
 * in its package.json, checked before import, and the definition's `apiVersion`) is one this
 * runtime supports (`SUPPORTED_API_VERSIONS`). The `@clnrm/core` (or `@clnrm/plugin-api`) range a
 * plugin names in `peerDependencies` is for the package manager, not for the loader: a core minor
 * release does not make a plugin unloadable.
 * Lazy: a package is imported the first
 * time one of its types is asked for, and kept per (projectDir, package).
 */
export class PluginLoader {
  readonly coreVersion: string;
  readonly supportedApiVersions: readonly number[];
  readonly #cache = new Map<string, Promise<Imported>>();
  readonly #roots: { cwd?: string; cliDirs?: readonly string[] };

  constructor(options: PluginLoaderOptions = {}) {
    this.coreVersion = options.coreVersion ?? runningCoreVersion();
    this.supportedApiVersions = options.supportedApiVersions ?? SUPPORTED_API_VERSIONS;
    this.#roots = { ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), ...(options.cliDirs ? { cliDirs: options.cliDirs } : {}) };
  }

  /** The directories types resolve from for a test file in `projectDir`, nearest first. */
  searchRoots(projectDir: string): SearchRoot[] {
    return searchRoots(projectDir, this.#roots);
  }

  /** Forgets every imported package (Node's own module cache still holds them). */
  clearCache(): void {
    this.#cache.clear();
  }

  /**
   * The definition of `type`, from the first candidate package (see `candidatesFor`) installed where
   * `projectDir` can see it. Throws a ValidationError for an invalid type or a failed check, and a
   * PluginNotFoundError when no candidate is installed.
   */
  async resolvePlugin(type: string, options: ResolveOptions): Promise<LoadedPlugin> {
    const candidates = candidatesFor(type, options.explicitPackage);
    const projectDir = resolve(options.projectDir);
    const roots = this.searchRoots(projectDir);
    const notes: string[] = [];
    for (const spec of candidates) {
      const located = this.#locate(spec, projectDir, roots);
      if (!located) continue;
      const explicit = options.explicitPackage !== undefined;
      if (!explicit && spec === type && !(located.pkg && declaresPlugin(located.pkg))) {
        notes.push(`'${spec}' is installed but is not a clnrm plugin (no "clnrm-plugin" keyword in its package.json)`);
        continue;
      }
      return this.#load(type, located, projectDir);
    }
    throw this.#notFound(type, candidates, projectDir, roots, options.explicitPackage, notes);
  }

  #locate(spec: string, projectDir: string, roots: readonly SearchRoot[]): Located | undefined {
    if (isRelativePath(spec)) {
      const abs = resolve(projectDir, spec);
      assertInsideProject(spec, abs, projectDir);
      if (isDirectory(abs)) {
        const pkg = readPackageJson(abs);
        const entry = packageEntry(abs, pkg);
        if (!entry) throw new ValidationError(`local plugin '${spec}' (${abs}) has no entry module`, { code: "CLNRM_ERR_PLUGIN_LOAD", hint: 'add "exports" or "main" to its package.json, or an index.js' });
        return { spec, name: spec, dir: abs, pkg, entry, from: "project" };
      }
      if (isFile(abs)) return { spec, name: spec, dir: undefined, pkg: undefined, entry: abs, from: "project" };
      return undefined;
    }
    if (isBuiltin(spec)) return undefined;
    for (const root of roots) {
      const located = this.#locatePackage(spec, root);
      if (located) return located;
    }
    return undefined;
  }

  #locatePackage(spec: string, { dir: projectDir, from }: SearchRoot): Located | undefined {
    let entry: string | undefined;
    try {
      entry = createRequire(join(projectDir, "noop.js")).resolve(spec);
    } catch {
      entry = undefined;
    }
    if (entry !== undefined && isAbsolute(entry)) {
      const root = findPackageRoot(entry, spec);
      return { spec, name: spec, dir: root?.dir, pkg: root?.pkg, entry, from };
    }
    // Not resolvable through `require` (an ESM-only package with an "import"-only export, or a missing
    // main): look for the directory itself, as Node would.
    for (const d of ancestors(projectDir)) {
      const dir = join(d, "node_modules", spec);
      if (!isDirectory(dir)) continue;
      const pkg = readPackageJson(dir);
      const e = packageEntry(dir, pkg);
      if (!e) throw new ValidationError(`package '${spec}' is installed at ${dir} but has no entry module`, { code: "CLNRM_ERR_PLUGIN_LOAD", hint: "reinstall it" });
      return { spec, name: spec, dir, pkg, entry: e, from };
    }
    return undefined;
  }

  async #load(type: string, located: Located, projectDir: string): Promise<LoadedPlugin> {
    const name = located.name;
    const manifest = located.pkg ? clnrmManifest(located.pkg) : undefined;
    if (manifest?.apiVersion !== undefined) this.#checkApiVersion(located, manifest.apiVersion);
    if (manifest?.types && manifest.types.length > 0 && !manifest.types.includes(type)) {
      throw this.#missingType(type, located, manifest.types);
    }

    const key = `${located.dir ?? projectDir}\0${located.entry}`;
    let imported = this.#cache.get(key);
    if (!imported) {
      imported = this.#import(located);
      this.#cache.set(key, imported);
      imported.catch(() => this.#cache.delete(key));
    }
    const { definitions } = await imported;
    const branded = definitions.find((d) => d.type === type);
    if (!branded) throw this.#missingType(type, located, definitions.map((d) => d.type));
    const definition = this.#supported(located, branded);
    const version = typeof located.pkg?.version === "string" ? located.pkg.version : undefined;
    return {
      type,
      definition,
      package: located.spec,
      version,
      official: name.startsWith("@clnrm/"),
      packageDir: located.dir,
      entry: located.entry,
      source: label(located),
      from: located.from,
    };
  }

  async #import(located: Located): Promise<Imported> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(located.entry).href)) as Record<string, unknown>;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new ValidationError(`plugin '${label(located)}' failed to load: ${message}`, {
        code: "CLNRM_ERR_PLUGIN_LOAD",
        cause: err,
        hint: `reinstall ${located.name}, or check ${located.entry}`,
      });
    }
    const definitions = definitionsOf(mod);
    if (!definitions) {
      throw new ValidationError(
        `package '${located.name}' does not export a clnrm plugin (default export must be definePlugin({...}))`,
        { code: "CLNRM_ERR_PLUGIN_LOAD" },
      );
    }
    return { definitions };
  }

  #supported(located: Located, definition: BrandedDefinition): PluginDefinition {
    if (isSupportedDefinition(definition, this.supportedApiVersions)) return definition;
    throw this.#incompatible(located, definition.apiVersion);
  }

  #checkApiVersion(located: Located, apiVersion: number): void {
    if (!this.supportedApiVersions.includes(apiVersion)) throw this.#incompatible(located, apiVersion);
  }

  #incompatible(located: Located, apiVersion: number): ValidationError {
    const supported = this.supportedApiVersions.map((v) => `v${v}`).join(", ");
    const newest = Math.max(...this.supportedApiVersions);
    const fix =
      apiVersion > newest
        ? `upgrade @clnrm/cli or install a version of ${located.name} built for API v${newest}`
        : `install a version of ${located.name} built for API v${newest} (or an older @clnrm/cli)`;
    return new ValidationError(
      `plugin '${label(located)}' uses plugin API v${apiVersion}, this clnrm (@clnrm/core ${this.coreVersion}) supports ${supported}; ${fix}`,
      { code: "CLNRM_ERR_PLUGIN_INCOMPATIBLE" },
    );
  }

  #missingType(type: string, located: Located, provided: readonly string[]): ValidationError {
    const list = provided.length > 0 ? provided.map((t) => `'${t}'`).join(", ") : "none";
    return new ValidationError(
      `package '${label(located)}' does not provide service type '${type}' (it provides ${list})`,
      provided.length === 1 ? { hint: `use type = "${provided[0]}"` } : {},
    );
  }

  #notFound(
    type: string,
    candidates: readonly string[],
    projectDir: string,
    roots: readonly SearchRoot[],
    explicitPackage: string | undefined,
    notes: readonly string[],
  ): PluginNotFoundError {
    const pm = detectPackageManager(projectDir);
    if (explicitPackage !== undefined) {
      if (isRelativePath(explicitPackage)) {
        return new PluginNotFoundError(
          `local plugin '${explicitPackage}' for service type '${type}' not found`,
          candidates,
          { hint: `no file or directory at ${resolve(projectDir, explicitPackage)}` },
        );
      }
      return new PluginNotFoundError(
        `plugin package '${explicitPackage}' for service type '${type}' is not installed`,
        candidates,
        { hint: `looked from ${roots.map((r) => r.dir).join(", ")}; install it: ${installCommand(explicitPackage, pm)}` },
      );
    }
    const installed = listInstalledPlugins(projectDir, roots);
    const hints = [`tried ${candidates.join(", ")} from ${roots.map((r) => r.dir).join(", ")}`, ...notes];
    const provider = installed.find((p) => p.type === type);
    if (provider) hints.push(`'${provider.package}' provides it: set package = "${provider.package}"`);
    const suggestion = didYouMean(type, new Set([...builtinTypes(), ...installed.map((p) => p.type)]));
    if (suggestion !== undefined && suggestion !== type) {
      // Install what the user most likely meant, not the misspelled name.
      const known = installed.find((p) => p.type === suggestion);
      if (known) {
        hints.push(`did you mean '${suggestion}'? (${known.package} is installed)`);
      } else {
        const suggested = candidatesFor(suggestion)[0];
        hints.push(`did you mean '${suggestion}'?${suggested ? ` install it with: ${installCommand(suggested, pm)}` : ""}`);
      }
    } else if (candidates[0] !== undefined) {
      hints.push(`to install it: ${installCommand(candidates[0], pm)}`);
    }
    return new PluginNotFoundError(`unknown service type '${type}'`, candidates, { hint: hints.join("; ") });
  }
}

/** The environment variable that lets a local `package = "../x"` point outside the test file's project. */
export const ALLOW_EXTERNAL_PLUGINS_ENV = "CLNRM_ALLOW_EXTERNAL_PLUGINS";

function within(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * A local plugin path must stay inside the test file's project (the nearest directory up with a package.json
 * or node_modules, else the file's directory), symlinks followed, unless CLNRM_ALLOW_EXTERNAL_PLUGINS=1.
 */
function assertInsideProject(spec: string, abs: string, projectDir: string): void {
  if (process.env[ALLOW_EXTERNAL_PLUGINS_ENV] === "1") return;
  const root = projectRoot(projectDir);
  if (within(root, abs) && within(realPath(root), realPath(abs))) return;
  throw new ValidationError(`local plugin '${spec}' (${abs}) is outside the test file's project ${root}; it was not loaded`, {
    hint: `move the plugin inside ${root}, or run with ${ALLOW_EXTERNAL_PLUGINS_ENV}=1 to allow plugins outside the project`,
  });
}

/** The definitions a plugin module exports, or undefined when it doesn't export any (or any is unbranded). */
function definitionsOf(mod: Record<string, unknown>): BrandedDefinition[] | undefined {
  const all = (list: unknown): BrandedDefinition[] | undefined =>
    Array.isArray(list) && list.length > 0 && list.every(isPluginDefinition) ? [...list] : undefined;
  const def = mod.default;
  if (isPluginDefinition(def)) return [def];
  if (Array.isArray(def)) return all(def);
  if (typeof def === "object" && def !== null && "plugins" in def) return all((def as { plugins: unknown }).plugins);
  if (def === undefined && "plugins" in mod) return all(mod.plugins);
  return undefined;
}

let defaultLoader: PluginLoader | undefined;

/** `resolvePlugin` on a shared PluginLoader. */
export function resolvePlugin(type: string, options: ResolveOptions): Promise<LoadedPlugin> {
  defaultLoader ??= new PluginLoader();
  return defaultLoader.resolvePlugin(type, options);
}
