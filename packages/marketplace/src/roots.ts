import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where a plugin package was found: the test file's project, the current directory's project, or beside the running CLI. */
export type PluginOrigin = "project" | "cwd" | "cli";

/** A directory plugin packages resolve from (walking up its node_modules like Node does). */
export interface SearchRoot {
  readonly dir: string;
  readonly from: PluginOrigin;
}

// This package's own directory: a global install or an npx cache keeps the CLI's dependencies beside it.
const cliDirs = new Set<string>([dirname(fileURLToPath(import.meta.url))]);

/** Adds a directory to resolve plugins from after the project and the cwd (the CLI's bin adds its own). */
export function addCliDir(dir: string): void {
  cliDirs.add(resolve(dir));
}

/** The directories a type resolves from, in order: the test file's project, the cwd's project, beside the running CLI. */
export function searchRoots(projectDir: string, options: { cwd?: string; cliDirs?: readonly string[] } = {}): SearchRoot[] {
  const all: SearchRoot[] = [
    { dir: resolve(projectDir), from: "project" },
    { dir: resolve(options.cwd ?? process.cwd()), from: "cwd" },
    ...(options.cliDirs ?? [...cliDirs]).map((d): SearchRoot => ({ dir: resolve(d), from: "cli" })),
  ];
  const seen = new Set<string>();
  return all.filter((r) => !seen.has(r.dir) && seen.add(r.dir));
}
