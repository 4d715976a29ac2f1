import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { COMMUNITY_PREFIX, OFFICIAL_PREFIX, builtinTypeOfPackage } from "./builtins.js";
import { type PackageJson, clnrmManifest, declaresPlugin, isDirectory, readPackageJson } from "./manifest.js";
import type { PluginOrigin, SearchRoot } from "./roots.js";

/** One service type provided by an installed plugin package. */
export interface InstalledPlugin {
  readonly type: string;
  readonly package: string;
  readonly version: string | undefined;
  /** From the package's `clnrm.apiVersion`; undefined when it doesn't say. */
  readonly apiVersion: number | undefined;
  readonly description: string | undefined;
  /** True for `@clnrm/*` packages. */
  readonly official: boolean;
  /** The package directory (as found under node_modules). */
  readonly path: string;
  /** Which search root found it: the test file's project, the cwd's project, or beside the running CLI. */
  readonly from: PluginOrigin;
}

/** The directories `projectDir` and its ancestors, nearest first. */
export function ancestors(projectDir: string): string[] {
  const out: string[] = [];
  let dir = resolve(projectDir);
  for (;;) {
    out.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return out;
    dir = parent;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The type a package provides by its name alone, when it has no `clnrm.types`. */
function typeFromName(name: string): string {
  const builtin = builtinTypeOfPackage(name);
  if (builtin) return builtin;
  if (name.startsWith(OFFICIAL_PREFIX)) return name.slice(OFFICIAL_PREFIX.length).replaceAll("-", "_");
  const scoped = /^(@[^/]+)\/clnrm-plugin-(.+)$/.exec(name);
  if (scoped) return `${scoped[1]}/${scoped[2]}`;
  if (name.startsWith(COMMUNITY_PREFIX)) return name.slice(COMMUNITY_PREFIX.length);
  return name;
}

/** Package names in one node_modules directory that follow a plugin naming convention. */
function conventionalNames(nodeModules: string): string[] {
  const out: string[] = [];
  for (const e of entries(nodeModules)) {
    if (e.startsWith(COMMUNITY_PREFIX)) out.push(e);
    else if (e.startsWith("@")) {
      for (const s of entries(join(nodeModules, e))) {
        if ((e === "@clnrm" && s.startsWith("plugin-")) || s.startsWith(COMMUNITY_PREFIX)) out.push(`${e}/${s}`);
      }
    }
  }
  return out;
}

/**
 * The plugin packages visible from `projectDir`, without importing any: walking up the node_modules
 * directories like Node does, packages named `@clnrm/plugin-*`, `clnrm-plugin-*` or `@scope/clnrm-plugin-*`
 * that declare a plugin (the `clnrm-plugin` keyword or a `clnrm` field; so not `@clnrm/plugin-kit`),
 * plus the dependencies and devDependencies of the project's package.json files (nearest and every ancestor) that declare one.
 * With `roots` (see searchRoots), each root in turn; the first root, and in it the nearest copy, of a package wins.
 * One row per provided type, sorted by type.
 */
export function listInstalledPlugins(projectDir: string, roots?: readonly SearchRoot[]): InstalledPlugin[] {
  const found = new Map<string, { dir: string; pkg: PackageJson; from: PluginOrigin }>();
  for (const root of roots ?? [{ dir: projectDir, from: "project" as const }]) collect(root, found);

  const rows: InstalledPlugin[] = [];
  for (const [name, { dir, pkg, from }] of found) {
    const manifest = clnrmManifest(pkg);
    const types = manifest?.types && manifest.types.length > 0 ? manifest.types : [typeFromName(name)];
    for (const type of new Set(types)) {
      rows.push({
        type,
        package: name,
        version: typeof pkg.version === "string" ? pkg.version : undefined,
        apiVersion: manifest?.apiVersion,
        description: typeof pkg.description === "string" ? pkg.description : undefined,
        official: name.startsWith("@clnrm/"),
        path: dir,
        from,
      });
    }
  }
  return rows.sort((a, b) => a.type.localeCompare(b.type) || a.package.localeCompare(b.package));
}

function collect(root: SearchRoot, found: Map<string, { dir: string; pkg: PackageJson; from: PluginOrigin }>): void {
  const dirs = ancestors(root.dir);
  const seen = new Set<string>();
  const locate = (name: string): void => {
    if (seen.has(name) || found.has(name)) return;
    seen.add(name);
    for (const d of dirs) {
      const dir = join(d, "node_modules", name);
      if (!isDirectory(dir)) continue;
      const pkg = readPackageJson(dir);
      if (pkg && declaresPlugin(pkg)) found.set(name, { dir, pkg, from: root.from });
      return;
    }
  };
  for (const d of dirs) for (const name of conventionalNames(join(d, "node_modules"))) locate(name);
  for (const d of dirs) {
    const project = readPackageJson(d);
    if (!project) continue;
    for (const deps of [project.dependencies, project.devDependencies]) {
      if (deps && typeof deps === "object") for (const name of Object.keys(deps)) locate(name);
    }
  }
}

/** The installed copy of a package visible from `projectDir` (nearest node_modules), or undefined. */
export function findInstalledPackage(name: string, projectDir: string): { dir: string; version: string | undefined } | undefined {
  for (const d of ancestors(projectDir)) {
    const dir = join(d, "node_modules", name);
    const pkg = isDirectory(dir) ? readPackageJson(dir) : undefined;
    if (pkg) return { dir, version: typeof pkg.version === "string" ? pkg.version : undefined };
  }
  return undefined;
}
