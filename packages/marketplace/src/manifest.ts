import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/** The `clnrm` field of a plugin package's package.json. */
export interface ClnrmManifest {
  readonly types?: readonly string[];
  readonly apiVersion?: number;
}

/** The parts of a package.json the loader reads. */
export interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly description?: string;
  readonly keywords?: readonly string[];
  readonly main?: string;
  readonly exports?: unknown;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly clnrm?: ClnrmManifest;
}

/** The package.json in `dir`, or undefined when there is none or it isn't valid JSON. */
export function readPackageJson(dir: string): PackageJson | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, "package.json"), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as PackageJson) : undefined;
  } catch {
    return undefined;
  }
}

/** The `clnrm` field, keeping only well-formed values. */
export function clnrmManifest(pkg: PackageJson): ClnrmManifest | undefined {
  const c = pkg.clnrm;
  if (typeof c !== "object" || c === null) return undefined;
  const types = Array.isArray(c.types) ? c.types.filter((t): t is string => typeof t === "string") : undefined;
  const apiVersion = typeof c.apiVersion === "number" ? c.apiVersion : undefined;
  return { ...(types ? { types } : {}), ...(apiVersion !== undefined ? { apiVersion } : {}) };
}

/** True when a package.json declares a clnrm plugin (`clnrm-plugin` keyword or a `clnrm` field). */
export function declaresPlugin(pkg: PackageJson): boolean {
  return (Array.isArray(pkg.keywords) && pkg.keywords.includes("clnrm-plugin")) || clnrmManifest(pkg) !== undefined;
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The root of the package that contains `entry`: walking up, the first package.json named `name`,
 * else the first package.json with a name (nested `{"type":"module"}` files have none).
 */
export function findPackageRoot(entry: string, name?: string): { dir: string; pkg: PackageJson } | undefined {
  let fallback: { dir: string; pkg: PackageJson } | undefined;
  let dir = dirname(entry);
  for (;;) {
    const pkg = readPackageJson(dir);
    if (pkg && typeof pkg.name === "string") {
      if (name === undefined || pkg.name === name) return { dir, pkg };
      fallback ??= { dir, pkg };
    }
    const parent = dirname(dir);
    if (parent === dir) return fallback;
    dir = parent;
  }
}

const CONDITIONS = ["node", "import", "default"];

/** The target of an `exports` value for ".", for an ESM consumer (conditions node, import, default). */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.some((k) => k.startsWith("."))) return exportTarget(obj["."]);
  for (const k of keys) if (CONDITIONS.includes(k)) return exportTarget(obj[k]);
  return undefined;
}

/**
 * The entry module of a package directory, as an ESM import would see it: `exports["."]`, else `main`,
 * else `index.js`. Undefined when there is no such file.
 */
export function packageEntry(dir: string, pkg: PackageJson | undefined): string | undefined {
  const target = pkg?.exports !== undefined ? exportTarget(pkg.exports) : undefined;
  const candidates = target !== undefined ? [target] : [...(pkg?.main ? [pkg.main, `${pkg.main}.js`, join(pkg.main, "index.js")] : []), "index.js"];
  for (const c of candidates) {
    const p = resolve(dir, c);
    if (isFile(p)) return p;
  }
  return undefined;
}

/** The version of the @clnrm/core this process runs (the one plugins are checked against). */
export function runningCoreVersion(): string {
  return (createRequire(import.meta.url)("@clnrm/core/package.json") as { version: string }).version;
}
