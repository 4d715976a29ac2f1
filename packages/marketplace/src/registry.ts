import { readFileSync } from "node:fs";
import { SUPPORTED_API_VERSIONS, ValidationError } from "@clnrm/core";
import { inRange, isRange, maxInRange } from "./semver.js";
import { BUILTIN_PLUGINS, COMMUNITY_PREFIX, OFFICIAL_PREFIX } from "./builtins.js";
import { candidatesFor } from "./names.js";
import { type ClnrmManifest, type PackageJson, clnrmManifest, runningCoreVersion } from "./manifest.js";
import { type RegistryConfig, authHeader, registryFor, withSlash } from "./npmrc.js";

/** The keyword every clnrm plugin package carries. */
export const PLUGIN_KEYWORD = "clnrm-plugin";

/** One plugin package found by a registry search. */
export interface SearchResult {
  readonly name: string;
  readonly version: string;
  readonly description: string | undefined;
  /** True for `@clnrm/*` packages. */
  readonly official: boolean;
  /** The registry it was found in (trailing slash). */
  readonly registry: string;
}

/** What `clnrm plugins info` shows about a package, from the registry. */
export interface RegistryPackageInfo {
  readonly name: string;
  readonly latest: string | undefined;
  /** The version the rest describes: `latest`, or the one a requested version, tag or range picks. */
  readonly version: string | undefined;
  readonly versions: readonly string[];
  readonly description: string | undefined;
  readonly manifest: ClnrmManifest | undefined;
  readonly corePeerRange: string | undefined;
  readonly keywords: readonly string[];
  readonly official: boolean;
  readonly registry: string;
}

export interface RegistryClientOptions {
  /** Injected for tests (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** Per-request timeout (default 15 s). */
  readonly timeoutMs?: number;
  /** Called for each registry a search could not reach while others answered. */
  readonly onRegistryError?: (err: Error) => void;
}

/** Splits a trailing `@version`/`@range`/`@tag` off a name (`@scope/x@^1` → `@scope/x`, `^1`). */
function splitSpec(input: string): { bare: string; spec: string | undefined } {
  const at = input.lastIndexOf("@");
  const [bare, spec] = at > 0 ? [input.slice(0, at), input.slice(at + 1)] : [input, undefined];
  return { bare, spec: spec || undefined };
}

/** True for a name that already follows a plugin package convention (so it is not read as a type). */
function isPluginPackageName(name: string): boolean {
  return name.startsWith(OFFICIAL_PREFIX) || name.startsWith(COMMUNITY_PREFIX) || /^@[^/]+\/clnrm-plugin-/.test(name);
}

/**
 * The package a name given to `clnrm plugins info/install/remove` most likely stands for, without asking a
 * registry: a built-in type maps to its official package (`ollama` → `@clnrm/plugin-ollama`), a scoped type
 * to its scope's convention (`@acme/redis` → `@acme/clnrm-plugin-redis`); anything else is taken as a
 * package name. A trailing `@version`/`@range` is kept apart.
 */
export function packageForName(input: string): { name: string; spec: string | undefined } {
  const { bare, spec } = splitSpec(input);
  const builtin = BUILTIN_PLUGINS[bare];
  if (builtin) return { name: builtin.package, spec };
  const scoped = /^(@[^/]+)\/(.+)$/.exec(bare);
  if (scoped && !isPluginPackageName(bare)) return { name: `${scoped[1]}/${COMMUNITY_PREFIX}${scoped[2]}`, spec };
  return { name: bare, spec };
}

/**
 * The registry package for a name as a test file's `type` writes it, or a package name: the candidates
 * of `candidatesFor` (a package name stands for itself), each asked of the registry npm would install it
 * from (its scope's `@scope:registry`), first found wins. With a version, tag or range, the info describes
 * the version it picks. Throws a ValidationError naming the candidates and registries when none has it.
 */
export async function findPluginPackage(
  input: string,
  config: RegistryConfig,
  options: RegistryClientOptions = {},
): Promise<RegistryPackageInfo & { spec: string | undefined }> {
  const { bare, spec } = splitSpec(input);
  const candidates = BUILTIN_PLUGINS[bare] ? [BUILTIN_PLUGINS[bare].package] : isPluginPackageName(bare) ? [bare] : candidatesFor(bare);
  for (const name of candidates) {
    const info = await fetchPackageInfo(name, config, { ...options, ...(spec ? { version: spec } : {}) });
    if (info) {
      if (spec && info.version === undefined) {
        throw new ValidationError(`${name} has no version matching '${spec}' in the registry ${info.registry}`, {
          hint: `its versions: ${info.versions.slice(-5).join(", ") || "none"}; latest is ${info.latest ?? "-"}`,
        });
      }
      return { ...info, spec };
    }
  }
  const tried = candidates.map((c) => `${c} (${registryFor(c, config)})`).join(", ");
  throw new ValidationError(`no plugin package for '${bare}' in the registry: tried ${tried}`, {
    hint: `check the name, or the registry lines of your .npmrc; search: clnrm plugins search ${bare.replace(/^@[^/]+\//, "")}`,
  });
}

/**
 * Why this clnrm can't load a registry package's version, or undefined when it can (or the package
 * doesn't say). The loader's one rule: only its `clnrm.apiVersion` decides; its `@clnrm/core` peer
 * range does not (a core minor must not make published plugins uninstallable).
 */
export function incompatibility(info: RegistryPackageInfo, coreVersion: string = runningCoreVersion()): string | undefined {
  const what = `${info.name}@${info.version ?? "?"} (from ${info.registry})`;
  const api = info.manifest?.apiVersion;
  if (api !== undefined && !SUPPORTED_API_VERSIONS.includes(api)) {
    const supported = SUPPORTED_API_VERSIONS.map((v) => `v${v}`).join(", ");
    return `${what} uses plugin API v${api}; this clnrm (@clnrm/core ${coreVersion}) supports ${supported}`;
  }
  return undefined;
}

/** `@scope/name` → `@scope%2fname`, as registries expect in a packument URL. */
function escapeName(name: string): string {
  return name.startsWith("@") ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

async function getJson(
  url: string,
  registry: string,
  config: RegistryConfig,
  options: RegistryClientOptions,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: "application/json" };
  const auth = authHeader(registry, config);
  if (auth) headers.authorization = auth;
  let res: Response;
  try {
    const init = { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) };
    res = options.fetch ? await options.fetch(url, init) : await fetchWithCa(url, init, config.settings.cafile);
  } catch (err) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new ValidationError(`registry ${registry} is unreachable: ${reason}`, {
      hint: "check the registry= lines of your .npmrc (and npm_config_registry), and your network",
    });
  }
  if (res.status === 404) return { status: 404, body: undefined };
  if (!res.ok) {
    const what = res.status === 401 || res.status === 403 ? "refused the request (not logged in or no access)" : `answered HTTP ${res.status}`;
    throw new ValidationError(`registry ${registry} ${what}`, {
      hint:
        res.status === 401 || res.status === 403
          ? `add a token for it to .npmrc: //${hostOf(registry)}/:_authToken=\${TOKEN}`
          : "try again later, or check the registry URL",
    });
  }
  try {
    return { status: res.status, body: await res.json() };
  } catch {
    throw new ValidationError(`registry ${registry} answered something that is not JSON`, { hint: "check the registry URL" });
  }
}

/**
 * fetch, trusting the certificate authorities of npm's `cafile` setting as npm does (a registry
 * behind a company proxy with its own CA). Without `cafile`, the global fetch.
 */
async function fetchWithCa(url: string, init: RequestInit, cafile: string | undefined): Promise<Response> {
  if (!cafile || !url.startsWith("https:")) return fetch(url, init);
  let ca: string;
  try {
    ca = readFileSync(cafile, "utf8");
  } catch {
    return fetch(url, init);
  }
  const [{ Agent, fetch: undiciFetch }, { rootCertificates }] = await Promise.all([import("undici"), import("node:tls")]);
  const dispatcher = new Agent({ connect: { ca: [...rootCertificates, ca] } });
  return (await undiciFetch(url, { ...(init as object), dispatcher })) as unknown as Response;
}

interface SearchObject {
  package?: { name?: string; version?: string; description?: string; keywords?: unknown; "dist-tags"?: Record<string, string> };
}

/**
 * Searches the default registry and every scoped registry for `text`, keeping packages with the
 * `clnrm-plugin` keyword (filtered here: not every registry understands `keywords:`). A package found
 * in a registry other than the one npm would install it from is dropped. Sorted by name.
 */
export async function searchPlugins(
  text: string,
  config: RegistryConfig,
  options: RegistryClientOptions = {},
): Promise<SearchResult[]> {
  const registries = [...new Set([config.registry, ...Object.values(config.scopes)])];
  const settled = await Promise.allSettled(
    registries.map(async (registry) => {
      const url = new URL(`${withSlash(registry)}-/v1/search`);
      // The public registry understands keyword qualifiers, which keeps the first page relevant.
      url.searchParams.set("text", hostOf(registry) === "registry.npmjs.org" ? `${text} keywords:${PLUGIN_KEYWORD}` : text);
      url.searchParams.set("size", "100");
      const { body } = await getJson(url.href, registry, config, options);
      const objects = (body as { objects?: SearchObject[] } | undefined)?.objects;
      return { registry, objects: Array.isArray(objects) ? objects : [] };
    }),
  );
  // One registry that can't be searched doesn't hide the others' results: it is reported, unless
  // no registry answered at all.
  const pages = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as Error] : []));
  if (pages.length === 0 && failures[0]) throw failures[0];
  for (const f of failures) options.onRegistryError?.(f);
  const byName = new Map<string, SearchResult>();
  for (const { registry, objects } of pages) {
    for (const o of objects) {
      const p = o.package;
      // npm's search has `version`; verdaccio's has only `dist-tags`.
      const version = p?.version ?? p?.["dist-tags"]?.latest;
      if (!p || typeof p.name !== "string" || typeof version !== "string") continue;
      const keywords = Array.isArray(p.keywords) ? p.keywords : [];
      if (!keywords.includes(PLUGIN_KEYWORD)) continue;
      if (registryFor(p.name, config) !== registry) continue;
      if (byName.has(p.name)) continue;
      byName.set(p.name, {
        name: p.name,
        version,
        description: typeof p.description === "string" ? p.description : undefined,
        official: p.name.startsWith("@clnrm/"),
        registry,
      });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

interface Packument {
  name?: string;
  description?: string;
  "dist-tags"?: Record<string, string>;
  versions?: Record<string, PackageJson>;
}

/** A package's registry metadata (its packument), or undefined when the registry doesn't have it. */
export async function fetchPackageInfo(
  name: string,
  config: RegistryConfig,
  options: RegistryClientOptions & { readonly version?: string } = {},
): Promise<RegistryPackageInfo | undefined> {
  const registry = registryFor(name, config);
  const { status, body } = await getJson(`${withSlash(registry)}${escapeName(name)}`, registry, config, options);
  if (status === 404 || typeof body !== "object" || body === null) return undefined;
  const doc = body as Packument;
  const latest = doc["dist-tags"]?.latest;
  const versions = Object.keys(doc.versions ?? {});
  const wanted = options.version;
  const version =
    wanted === undefined
      ? latest
      : versions.includes(wanted)
        ? wanted
        : (doc["dist-tags"]?.[wanted] ?? (isRange(wanted) ? maxInRange(versions, wanted) : undefined));
  const manifest = version ? doc.versions?.[version] : undefined;
  const description = manifest?.description ?? doc.description;
  const peer = manifest?.peerDependencies?.["@clnrm/core"];
  return {
    name,
    latest,
    version,
    versions,
    description: typeof description === "string" ? description : undefined,
    manifest: manifest ? clnrmManifest(manifest) : undefined,
    corePeerRange: typeof peer === "string" ? peer : undefined,
    keywords: Array.isArray(manifest?.keywords) ? manifest.keywords.filter((k): k is string => typeof k === "string") : [],
    official: name.startsWith("@clnrm/"),
    registry,
  };
}

/** The running @clnrm/core version. */
/** Whether `coreVersion` satisfies a plugin's `@clnrm/core` peer range; undefined when the range can't be checked. */
export function coreSatisfies(range: string | undefined, coreVersion: string = runningCoreVersion()): boolean | undefined {
  if (range === undefined || !isRange(range)) return undefined;
  return inRange(coreVersion, range);
}
