// What Even Better TOML shows with the schema of `clnrm schema`: the test drives the language server it
// runs (@taplo/lsp, taplo's LSP compiled to WebAssembly) over JSON-RPC, as the editor does, on a project
// with the `.taplo.toml` rule of docs/configuration.md. Nothing here needs Docker or the network.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type RpcMessage, TaploLsp } from "@taplo/lsp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = resolve(import.meta.dirname, "../dist/bin.js");
const REPO = resolve(import.meta.dirname, "../../..");

const dir = mkdtempSync(join(import.meta.dirname, ".tmp-schema-lsp-"));
const file = join(dir, "tests", "db.clnrm.toml");
const uri = pathToFileURL(file).href;
// 0-based lines: 2 is `strict`, 3 the misspelled `usr`, 4 the empty line completion is asked on.
const TEXT = '[services.db]\ntype = "surrealdb"\nstrict = true\nusr = "root"\n\n[services.app]\ntype = "generic_container"\nimage = "clnrm-test/tools:latest"\n';

let lsp: TaploLsp;
const pending = new Map<number, (m: RpcMessage) => void>();
const diagnostics: { uri: string; diagnostics: { range: { start: { line: number } }; message: string }[] }[] = [];
let nextId = 0;
const request = (method: string, params: unknown): Promise<RpcMessage> =>
  new Promise((done) => {
    const id = ++nextId;
    pending.set(id, done);
    lsp.send({ jsonrpc: "2.0", id, method, params });
  });

beforeAll(async () => {
  const schema = join(dir, "clnrm.schema.json");
  await new Promise<void>((done, fail) => execFile(process.execPath, [BIN, "schema", "--output", schema], { cwd: REPO }, (err) => (err ? fail(err) : done())));
  writeFileSync(join(dir, ".taplo.toml"), '[[rule]]\ninclude = ["**/*.clnrm.toml"]\n[rule.schema]\npath = "./clnrm.schema.json"\n');
  // The language server's view of the machine (what the VS Code extension gives it), over node:fs.
  const env = {
    now: () => new Date(),
    envVar: (name: string) => process.env[name],
    envVars: () => Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    stdErrAtty: () => false,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: async (bytes: Uint8Array) => bytes.length, // its log lines
    glob: () => [],
    readFile: async (p: string) => new Uint8Array(await readFile(p)),
    writeFile: (p: string, bytes: Uint8Array) => writeFile(p, bytes),
    urlToFilePath: (u: string) => fileURLToPath(u),
    isAbsolute: (p: string) => isAbsolute(p),
    cwd: () => dir,
    findConfigFile: (from: string) => [".taplo.toml", "taplo.toml"].map((n) => join(from, n)).find((f) => existsSync(f)),
    fetch: { fetch, Headers, Request, Response },
  };
  lsp = await TaploLsp.initialize(env, {
    onMessage(m) {
      if (m.method === undefined && typeof m.id === "number") pending.get(m.id)?.(m);
      else if (m.method === "textDocument/publishDiagnostics") diagnostics.push(m.params);
      // The server asks for the editor's settings (workspace/configuration): none, so its defaults.
      else if (m.method !== undefined && m.id !== undefined) lsp.send({ jsonrpc: "2.0", id: m.id, result: m.method === "workspace/configuration" ? m.params.items.map(() => null) : null });
    },
  });
  const rootUri = pathToFileURL(dir).href;
  await request("initialize", { processId: null, rootUri, capabilities: {}, workspaceFolders: [{ uri: rootUri, name: "project" }] });
  lsp.send({ jsonrpc: "2.0", method: "initialized", params: {} });
  lsp.send({ jsonrpc: "2.0", method: "textDocument/didOpen", params: { textDocument: { uri, languageId: "toml", version: 1, text: TEXT } } });
});

afterAll(() => {
  lsp?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("Even Better TOML's language server with the clnrm schema", () => {
  it("marks the misspelled key of a surrealdb service once, on its line, and nothing else", async () => {
    await expect.poll(() => diagnostics.filter((d) => d.uri === uri && d.diagnostics.length > 0).length, { timeout: 30_000 }).toBeGreaterThan(0);
    const last = diagnostics.filter((d) => d.uri === uri && d.diagnostics.length > 0).at(-1)!;
    expect(last.diagnostics.map((d) => [d.range.start.line, d.message.replace(/ \(its keys: .*/, "")])).toEqual([[3, '"no such key in a surrealdb service']]);
  });

  it("completes the plugins' keys in a service table, with their descriptions and defaults", async () => {
    const r = await request("textDocument/completion", { textDocument: { uri }, position: { line: 4, character: 0 } });
    const items = (Array.isArray(r.result) ? r.result : (r.result?.items ?? [])) as { label: string; documentation?: { value: string }; insertText?: string }[];
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(["namespace", "database", "init_scripts", "depends_on", "startup_timeout"]));
    expect(labels).not.toContain("strict"); // already set
    expect(labels.filter((l) => l === "image")).toHaveLength(1); // once, though every plugin takes one
    const namespace = items.find((i) => i.label === "namespace");
    expect(namespace?.documentation?.value).toBe("Namespace defined at start and used for init scripts; output `ns`.\n\n*surrealdb*");
    expect(namespace?.insertText).toContain('"test"'); // the default
    expect(items.find((i) => i.label === "depends_on")?.documentation?.value).toBe("Services that must be ready before this one starts.");
  });

  it("shows a key's description on hover", async () => {
    const r = await request("textDocument/hover", { textDocument: { uri }, position: { line: 2, character: 2 } });
    expect((r.result as { contents: { value: string } }).contents.value.trim()).toBe("`surreal start --strict`: tables, namespaces and databases must be defined before use.\n\n*surrealdb*");
  });
});

