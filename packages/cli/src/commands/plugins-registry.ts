import {
  incompatibility,
  findInstalledPackage,
  findPluginPackage,
  readRegistryConfig,
  runningCoreVersion,
  searchPlugins,
} from "@clnrm/marketplace";
import pc from "picocolors";
import { printTable } from "./plugins.js";

/** `clnrm plugins search <text>`: the default registry and every scoped one, filtered on the clnrm-plugin keyword. */
export async function pluginsSearchCommand(projectDir: string, text: string, opts: { json?: boolean }): Promise<number> {
  const config = readRegistryConfig(projectDir);
  const results = await searchPlugins(text, config, {
    onRegistryError: (err) => process.stderr.write(`${pc.yellow("warning")}: ${(err as { format?: () => string }).format?.() ?? err.message}\n`),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return 0;
  }
  if (results.length === 0) {
    const where = [...new Set([config.registry, ...Object.values(config.scopes)])].join(", ");
    process.stdout.write(`no clnrm plugins match '${text}' in ${where}\n`);
    return 0;
  }
  printTable(
    ["PACKAGE", "VERSION", "SOURCE", "DESCRIPTION"],
    results.map((r) => [r.name, r.version, r.official ? "official" : "third-party", r.description ?? ""]),
  );
  return 0;
}

/**
 * `clnrm plugins info <name>`: a type as a test file writes it (`@acme/redis`) or a package name, looked up in
 * the registry its scope uses; registry metadata, compatibility with this clnrm, and the installed version.
 */
export async function pluginsInfoCommand(projectDir: string, input: string, opts: { json?: boolean }): Promise<number> {
  const config = readRegistryConfig(projectDir);
  const info = await findPluginPackage(input, config);
  const name = info.name;
  const installed = findInstalledPackage(name, projectDir);
  const core = runningCoreVersion();
  // The one compatibility rule: the plugin API version decides, not the core range.
  const compatible = info.manifest?.apiVersion === undefined ? undefined : incompatibility(info, core) === undefined;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...info, installed: installed ?? null, coreVersion: core, compatible: compatible ?? null }, null, 2)}\n`);
    return 0;
  }
  const isPlugin = info.keywords.includes("clnrm-plugin") || info.manifest !== undefined;
  const rows: [string, string][] = [
    ["latest", info.latest ?? "-"],
    ...(info.version !== info.latest ? [["version", info.version ?? "-"] as [string, string]] : []),
    ["description", info.description ?? "-"],
    ["types", info.manifest?.types?.join(", ") ?? "-"],
    ["plugin API", info.manifest?.apiVersion === undefined ? "-" : `v${info.manifest.apiVersion} (${compatible ? "loads in" : "NOT loadable by"} this clnrm, @clnrm/core ${core})`],
    ["@clnrm/core", info.corePeerRange ?? "-"],
    ["installed", installed ? `${installed.version ?? "?"} (${installed.dir})` : "no"],
    ["registry", info.registry],
  ];
  process.stdout.write(`${pc.bold(info.name)}  ${info.official ? "official" : "third-party"}${isPlugin ? "" : pc.yellow("  (not a clnrm plugin: no clnrm-plugin keyword)")}\n`);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`);
  return 0;
}
