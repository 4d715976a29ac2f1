import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { type SourceLocation, ValidationError } from "@clnrm/core";
import { getStaticTOMLValue, parseTOML } from "toml-eslint-parser";

type Path = readonly (string | number)[];

/** A parsed TOML document plus the source position of every key, for errors that point at `file:line:col`. */
export interface SourceDocument {
  readonly file: string;
  /** The file name as shown in messages (relative to the working directory when shorter). */
  readonly displayName: string;
  readonly value: Record<string, unknown>;
  /** The location of the key at `path`, or of its nearest ancestor. */
  locate(path: Path): SourceLocation;
}

/** Test files past this size are refused before parsing. */
export const MAX_FILE_BYTES = 1024 * 1024;

export function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && rel.length < file.length ? rel : file;
}

export async function loadDocument(file: string): Promise<SourceDocument> {
  const name = displayName(file);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(err)})`, {
      location: { file: name },
      hint: code === "ENOENT" ? "check the path" : undefined,
    });
  }
  return parseDocument(buf, file);
}

export function parseDocument(buf: Buffer | string, file: string): SourceDocument {
  const name = displayName(file);
  if (buf.length > MAX_FILE_BYTES) {
    throw new ValidationError(`file is ${(buf.length / 1024 / 1024).toFixed(1)} MiB; test files are limited to 1 MiB`, {
      location: { file: name },
      hint: "split it into several test files",
    });
  }
  const source = typeof buf === "string" ? buf : buf.toString("utf8");
  const nul = source.indexOf("\u0000");
  if (nul >= 0 || source.includes("\uFFFD")) {
    const at = nul >= 0 ? nul : source.indexOf("\uFFFD");
    const line = source.slice(0, at).split("\n").length;
    throw new ValidationError("file is not UTF-8 text (binary content)", { location: { file: name, line, column: 1 }, hint: "a .clnrm.toml file must be TOML text" });
  }
  let ast: ReturnType<typeof parseTOML>;
  try {
    ast = parseTOML(source, { tomlVersion: "1.0.0" });
  } catch (err) {
    const e = err as { message?: string; lineNumber?: number; column?: number };
    let line = e.lineNumber;
    let column = e.column === undefined ? undefined : e.column + 1;
    // "key =" with nothing after it is reported at the start of the next line; point at the key's line.
    const previous = line && line > 1 ? source.split("\n")[line - 2] : undefined;
    if (column === 1 && previous !== undefined && (/=\s*$/.test(previous) || /^Unterminated/.test(e.message ?? ""))) {
      line = line! - 1;
      column = previous.trimEnd().length + 1;
    }
    let message = e.message ?? String(err);
    // "[services.x" without its "]" is reported on the next line; point at the header.
    if (column === 1 && previous !== undefined && /^\s*\[[^\]]*$/.test(previous)) {
      line = line! - 1;
      column = previous.trimEnd().length + 1;
      message = "table header is missing its closing ']'";
    }
    throw new ValidationError(`TOML syntax error: ${message}`, {
      location: { file: name, ...(line ? { line } : {}), ...(column !== undefined ? { column } : {}) },
      hint: "see https://toml.io for the syntax",
    });
  }
  const value = getStaticTOMLValue(ast) as Record<string, unknown>;
  const positions = new Map<string, { line: number; column: number }>();
  indexPositions(ast, positions);
  return {
    file,
    displayName: name,
    value,
    locate(path: Path): SourceLocation {
      for (let n = path.length; n > 0; n--) {
        const pos = positions.get(key(path.slice(0, n)));
        if (pos) return { file: name, line: pos.line, column: pos.column + 1 };
      }
      return { file: name };
    },
  };
}

const key = (path: Path) => JSON.stringify(path);

interface Loc {
  start: { line: number; column: number };
}
interface Node {
  type: string;
  loc: Loc;
  [k: string]: unknown;
}

function indexPositions(ast: unknown, out: Map<string, { line: number; column: number }>): void {
  const program = ast as { body: { body: Node[] }[] };
  const top = program.body[0];
  if (!top) return;
  for (const node of top.body) {
    if (node.type === "TOMLTable") {
      const base = node.resolvedKey as (string | number)[];
      // "[servces.a]" also locates "servces": an error about an ancestor key points at its first header.
      for (let n = 1; n <= base.length; n++) if (!out.has(key(base.slice(0, n)))) out.set(key(base.slice(0, n)), node.loc.start);
      for (const kv of node.body as Node[]) indexKeyValue(kv, base, out);
    } else if (node.type === "TOMLKeyValue") {
      indexKeyValue(node, [], out);
    }
  }
}

function indexKeyValue(kv: Node, base: (string | number)[], out: Map<string, { line: number; column: number }>): void {
  const keys = (kv.key as { keys: { name?: string; value?: string }[] }).keys.map((k) => k.name ?? k.value ?? "");
  const path = [...base, ...keys];
  // A dotted key (a.b.c = 1) also locates its implicit tables a and a.b.
  for (let n = base.length + 1; n < path.length; n++) if (!out.has(key(path.slice(0, n)))) out.set(key(path.slice(0, n)), kv.loc.start);
  out.set(key(path), kv.loc.start);
  indexValue(kv.value as Node, path, out);
}

function indexValue(node: Node, path: (string | number)[], out: Map<string, { line: number; column: number }>): void {
  if (node.type === "TOMLArray") {
    (node.elements as Node[]).forEach((el, i) => {
      out.set(key([...path, i]), el.loc.start);
      indexValue(el, [...path, i], out);
    });
  } else if (node.type === "TOMLInlineTable") {
    for (const kv of node.body as Node[]) indexKeyValue(kv, path, out);
  }
}
