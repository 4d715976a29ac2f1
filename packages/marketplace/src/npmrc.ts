import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ancestors } from "./list.js";
import { isDirectory, isFile } from "./manifest.js";

/** The public npm registry, used when no `.npmrc` or environment variable names another. */
export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

/** The registry settings that matter for searching and reading plugin metadata. */
export interface RegistryConfig {
  /** The default registry (trailing slash). */
  readonly registry: string;
  /** `@scope` → registry URL (trailing slash), from `@scope:registry=...`. */
  readonly scopes: Readonly<Record<string, string>>;
  /** Every other setting, keys as written (`//host/path/:_authToken`, ...), `${ENV}` expanded. */
  readonly settings: Readonly<Record<string, string>>;
}

export interface ReadRegistryConfigOptions {
  /** Environment (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The user config file (default: `$NPM_CONFIG_USERCONFIG` or `~/.npmrc`). */
  readonly userConfig?: string;
  /** The global config file (default: `$NPM_CONFIG_GLOBALCONFIG` or `<prefix>/etc/npmrc`). */
  readonly globalConfig?: string;
}

/** npm's global config file: `$NPM_CONFIG_GLOBALCONFIG`, else `<prefix>/etc/npmrc` (prefix: `$NPM_CONFIG_PREFIX` or Node's install dir). */
function globalConfigFile(env: NodeJS.ProcessEnv): string {
  const explicit = env.NPM_CONFIG_GLOBALCONFIG ?? env.npm_config_globalconfig;
  if (explicit) return explicit;
  const prefix = env.NPM_CONFIG_PREFIX ?? env.npm_config_prefix ?? dirname(dirname(process.execPath));
  return join(prefix, "etc", "npmrc");
}

/** `${VAR}` → the variable's value (npm leaves unknown variables as written; so do we). */
function expand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/(\\*)\$\{([^}]+)\}/g, (whole, slashes: string, name: string) => {
    if (slashes.length % 2 === 1) return whole.slice(1);
    const v = env[name];
    return v === undefined ? whole : `${slashes}${v}`;
  });
}

/** Parses an `.npmrc` (ini `key = value` lines; `#`/`;` comments; quoted values; no sections). */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = expand(line.slice(0, eq).trim(), env);
    let value = line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.length >= 2 ? value.slice(1, -1) : value;
    }
    out[key] = expand(value, env);
  }
  return out;
}

function readNpmrc(file: string, env: NodeJS.ProcessEnv): Record<string, string> {
  if (!isFile(file)) return {};
  try {
    return parseNpmrc(readFileSync(file, "utf8"), env);
  } catch {
    return {};
  }
}

/** Adds a trailing slash. */
export function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/** The project root npm uses: the nearest directory with a package.json or node_modules, else `projectDir`. */
export function projectRoot(projectDir: string): string {
  for (const d of ancestors(projectDir)) {
    if (isFile(join(d, "package.json")) || isDirectory(join(d, "node_modules"))) return d;
  }
  return projectDir;
}

/**
 * The registry configuration seen from `projectDir`, with npm's precedence: `npm_config_registry` /
 * `NPM_CONFIG_REGISTRY`, then the project `.npmrc` (at the project root), then the user `.npmrc`.
 */
export function readRegistryConfig(projectDir: string, options: ReadRegistryConfigOptions = {}): RegistryConfig {
  const env = options.env ?? process.env;
  const userFile = options.userConfig ?? env.NPM_CONFIG_USERCONFIG ?? env.npm_config_userconfig ?? join(homedir(), ".npmrc");
  // Global files, lowest precedence first: Debian's npm reads /etc/npmrc, a /usr/local install
  // /usr/local/etc/npmrc, others <prefix>/etc/npmrc; they are merged in that order.
  const globals = options.globalConfig ? [options.globalConfig] : [...new Set(["/etc/npmrc", "/usr/local/etc/npmrc", globalConfigFile(env)])];
  const settings: Record<string, string> = {
    ...Object.assign({}, ...globals.map((f) => readNpmrc(f, env))),
    ...readNpmrc(userFile, env),
    ...readNpmrc(join(projectRoot(projectDir), ".npmrc"), env),
  };
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (fromEnv) settings.registry = fromEnv;
  const scopes: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    const m = /^(@[^:/]+):registry$/.exec(k);
    if (m && v) scopes[m[1]!] = withSlash(v);
  }
  return { registry: withSlash(settings.registry || DEFAULT_REGISTRY), scopes, settings };
}

/** The registry a package is fetched from: its scope's registry, else the default one. */
export function registryFor(name: string, config: RegistryConfig): string {
  if (name.startsWith("@")) {
    const scope = name.slice(0, name.indexOf("/"));
    const r = config.scopes[scope];
    if (r) return r;
  }
  return config.registry;
}

/**
 * The `Authorization` header for a registry URL, from the `//host/path/:_authToken` (Bearer) or
 * `//host/path/:_auth` (Basic) setting with the longest matching path, as npm does. Undefined when none.
 */
export function authHeader(registryUrl: string, config: RegistryConfig): string | undefined {
  let url: URL;
  try {
    url = new URL(registryUrl);
  } catch {
    return undefined;
  }
  // "nerf dart": //host:port/path/ without the protocol.
  let path = `//${url.host}${withSlash(url.pathname)}`;
  for (;;) {
    const token = config.settings[`${path}:_authToken`];
    if (token) return `Bearer ${token}`;
    const basic = config.settings[`${path}:_auth`];
    if (basic) return `Basic ${basic}`;
    const user = config.settings[`${path}:username`];
    const pass = config.settings[`${path}:_password`];
    if (user && pass) return `Basic ${Buffer.from(`${user}:${Buffer.from(pass, "base64").toString("utf8")}`).toString("base64")}`;
    if (path === `//${url.host}/`) return undefined;
    path = `${path.slice(0, path.slice(0, -1).lastIndexOf("/"))}/`;
  }
}
