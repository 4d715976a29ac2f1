import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const roots: string[] = [];

/** A temp directory, removed by `cleanup()`. */
export function tempDir(prefix = "clnrm-mkt-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  roots.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
}

export function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A fixture project: a directory with a package.json. */
export function makeProject(opts: { dir?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> } = {}): string {
  const dir = opts.dir ?? tempDir();
  mkdirSync(dir, { recursive: true });
  write(
    join(dir, "package.json"),
    JSON.stringify({ name: "fixture-project", private: true, type: "module", dependencies: opts.dependencies ?? {}, devDependencies: opts.devDependencies ?? {} }),
  );
  return dir;
}

/** Where a package's import side effect is recorded. */
export function markerPath(root: string, pkg: string): string {
  return join(root, "markers", pkg.replace(/[@/.]/g, "_"));
}

/** How many times a package's module was evaluated (0 when never imported). */
export function importCount(root: string, pkg: string): number {
  const p = markerPath(root, pkg);
  return existsSync(p) ? readFileSync(p, "utf8").length : 0;
}

/** Module source for a branded definition (a literal object: the fixture can't import @clnrm/core or zod). */
export function defSource(type: string, apiVersion = 1, description = `${type} plugin`): string {
  return `{ $$type: "@clnrm/plugin", apiVersion: ${apiVersion}, type: ${JSON.stringify(type)}, description: ${JSON.stringify(description)}, configSchema: { safeParse: (v) => ({ success: true, data: v }) }, create() { return {}; } }`;
}

export interface FixturePackage {
  version?: string;
  keywords?: string[];
  clnrm?: { types?: string[]; apiVersion?: number } | null;
  peerCore?: string;
  description?: string;
  /** The module's `export default` expression (default: one definition of `types[0]`). */
  defaultExport?: string;
  /** Full module source after the side effect (overrides defaultExport). */
  body?: string;
  dependencies?: Record<string, string>;
}

/**
 * Writes `<root>/node_modules/<name>` (or `dir` when given) with a package.json and an ESM index.js whose
 * evaluation appends one character to `markerPath(markerRoot, name)`.
 */
export function addPackage(root: string, name: string, p: FixturePackage = {}, dir = join(root, "node_modules", name), markerRoot = root): string {
  const types = p.clnrm?.types ?? ["hello"];
  const pkg = {
    name,
    version: p.version ?? "1.0.0",
    description: p.description ?? `fixture ${name}`,
    type: "module",
    exports: { ".": { default: "./index.js" }, "./package.json": "./package.json" },
    keywords: p.keywords ?? ["clnrm-plugin"],
    ...(p.clnrm === null ? {} : { clnrm: { types, apiVersion: 1, ...p.clnrm } }),
    ...(p.peerCore ? { peerDependencies: { "@clnrm/core": p.peerCore } } : {}),
    ...(p.dependencies ? { dependencies: p.dependencies } : {}),
  };
  write(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  const marker = markerPath(markerRoot, name);
  const body = p.body ?? `export default ${p.defaultExport ?? defSource(types[0]!, 1, `${name} plugin`)};`;
  write(
    join(dir, "index.js"),
    `import { appendFileSync, mkdirSync } from "node:fs";\nmkdirSync(${JSON.stringify(dirname(marker))}, { recursive: true });\nappendFileSync(${JSON.stringify(marker)}, "x");\n${body}\n`,
  );
  return dir;
}
