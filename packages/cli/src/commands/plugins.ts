import { BUILTIN_PLUGINS, type PluginOrigin, listInstalledPlugins, searchRoots } from "@clnrm/marketplace/list";
import pc from "picocolors";

const FROM: Record<PluginOrigin, string> = { project: "project", cwd: "cwd project", cli: "beside clnrm" };

/**
 * Lists the plugins a test file in `projectDir` resolves (package metadata only, nothing is imported), with
 * where each resolves from, then the built-ins not installed.
 */
export async function pluginsCommand(projectDir: string, opts: { json?: boolean }): Promise<number> {
  const installed = listInstalledPlugins(projectDir, searchRoots(projectDir));
  const installedTypes = new Set(installed.map((p) => p.type));
  const missing = Object.entries(BUILTIN_PLUGINS)
    .filter(([type]) => !installedTypes.has(type))
    .map(([type, b]) => ({ type, package: b.package, description: b.description }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ installed, available: missing }, null, 2)}\n`);
    return 0;
  }
  const rows = installed.map((p) => [p.type, p.package, p.version ?? "-", p.apiVersion === undefined ? "-" : `v${p.apiVersion}`, p.official ? "official" : "third-party", FROM[p.from], p.description ?? ""]);
  if (rows.length) {
    printTable(["TYPE", "PACKAGE", "VERSION", "API", "SOURCE", "FROM", "DESCRIPTION"], rows);
  } else {
    process.stdout.write("no clnrm plugins installed in this project\n");
  }
  if (missing.length) {
    process.stdout.write(`\n${pc.dim("built-in plugins not installed (clnrm plugins install <type>):")}\n`);
    printTable(["TYPE", "PACKAGE", "FROM", "DESCRIPTION"], missing.map((m) => [m.type, m.package, "builtin (not installed)", m.description]));
  }
  return 0;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  process.stdout.write(`${pc.bold(fmt(header))}\n`);
  for (const r of rows) process.stdout.write(`${fmt(r)}\n`);
}
