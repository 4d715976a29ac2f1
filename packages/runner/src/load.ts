import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { formatPath, type SourceLocation, ValidationError } from "@clnrm/core";
import { parseTOML } from "toml-eslint-parser";

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

/** Tables, arrays and dotted keys nested deeper than this are refused before parsing (a real file needs fewer than 10). */
export const MAX_NESTING = 64;

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
  // A UTF-8 byte order mark (as some Windows editors write) is not part of the TOML.
  const source = (typeof buf === "string" ? buf : buf.toString("utf8")).replace(/^\uFEFF/, "");
  const nul = source.indexOf("\u0000");
  if (nul >= 0 || source.includes("\uFFFD")) {
    const at = nul >= 0 ? nul : source.indexOf("\uFFFD");
    const line = source.slice(0, at).split("\n").length;
    throw new ValidationError("file is not UTF-8 text (binary content)", { location: { file: name, line, column: 1 }, hint: "a .clnrm.toml file must be TOML text" });
  }
  const deep = tooDeep(source);
  if (deep) {
    throw new ValidationError(`tables, arrays or dotted keys are nested more than ${MAX_NESTING} levels deep`, {
      location: { file: name, ...deep },
      hint: "a test file needs only a few levels: [services.NAME], [[steps]] and their keys",
    });
  }
  let ast: ReturnType<typeof parseTOML>;
  try {
    ast = parseTOML(source, { tomlVersion: "1.0.0" });
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ValidationError("the file is nested too deeply to parse", { location: { file: name, line: 1, column: 1 }, hint: `keep tables and arrays under ${MAX_NESTING} levels` });
    }
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
  const value = toValue(ast, name);
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

/**
 * Where a file's nesting first goes past MAX_NESTING, counted without parsing (the parser recurses
 * and would overflow the stack first): open brackets and braces plus the dots of a dotted key,
 * outside strings and comments. Numbers and dates have at most one dot, so this never refuses a
 * file of ordinary depth.
 */
function tooDeep(source: string): { line: number; column: number } | undefined {
  let depth = 0;
  let dots = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      lineStart = i + 1;
      dots = 0;
    } else if (c === "#") {
      while (i + 1 < source.length && source[i + 1] !== "\n") i++;
    } else if (c === '"' || c === "'") {
      const triple = source.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      for (i += close.length; i < source.length && !source.startsWith(close, i); i++) {
        if (source[i] === "\\" && c === '"' && source[i + 1] !== "\n") i++;
        else if (source[i] === "\n") {
          if (!triple) {
            i--; // an unterminated string: the parser reports it; the newline is counted below
            break;
          }
          line++;
          lineStart = i + 1;
        }
      }
      if (triple) i += 2;
    } else if (c === "[" || c === "{") {
      depth++;
    } else if (c === "]" || c === "}") {
      depth = Math.max(0, depth - 1);
      dots = 0;
    } else if (c === ".") {
      dots++;
    } else if (c === "=" || c === ",") {
      dots = 0;
    }
    if (depth + dots > MAX_NESTING) return { line, column: i - lineStart + 1 };
  }
  return undefined;
}

interface ValueNode {
  type: string;
  loc: Loc;
  value?: unknown;
  elements?: ValueNode[];
  body?: KeyValueNode[];
}
interface KeyNode {
  keys: { name?: string; value?: string; loc: Loc }[];
}
interface KeyValueNode {
  type: "TOMLKeyValue";
  key: KeyNode;
  value: ValueNode;
  loc: Loc;
}
interface TableNode {
  type: "TOMLTable";
  kind: "standard" | "array";
  key: KeyNode;
  body: KeyValueNode[];
  loc: Loc;
}

type Table = Record<string, unknown>;
/** Tables without a prototype: a key such as `constructor` is only a key, and nothing reaches Object.prototype. */
const table = (): Table => Object.create(null) as Table;

/**
 * The document's value, built from the syntax tree into prototype-less objects. A `__proto__` key
 * is refused with its position: no program that reads the config could tell it from the
 * prototype, so it can be neither a service, a setting nor an environment variable.
 */
function toValue(ast: unknown, file: string): Table {
  const root = table();
  const top = (ast as { body: { body: (TableNode | KeyValueNode)[] }[] }).body[0];
  const names = (k: KeyNode, base: readonly (string | number)[]): string[] =>
    k.keys.map((part, i) => {
      const name = part.name ?? part.value ?? "";
      if (name === "__proto__") {
        throw new ValidationError(`${formatPath([...base, ...k.keys.slice(0, i + 1).map((p) => p.name ?? p.value ?? "")])}: the key '__proto__' is not allowed (JavaScript reserves it); rename it`, {
          location: { file, line: part.loc.start.line, column: part.loc.start.column + 1 },
        });
      }
      return name;
    });
  /** The table at `path` under `target`, created as needed; through an array of tables, its last one. */
  const descend = (target: Table, name: string): Table => {
    let next = target[name];
    if (next === undefined || next === null || typeof next !== "object" || next instanceof Date) {
      next = table();
      target[name] = next;
    }
    while (Array.isArray(next)) next = next[next.length - 1];
    return next as Table;
  };
  const assign = (target: Table, kv: KeyValueNode, base: readonly (string | number)[]) => {
    const path = names(kv.key, base);
    let t = target;
    for (const n of path.slice(0, -1)) t = descend(t, n);
    t[path[path.length - 1]!] = convert(kv.value, [...base, ...path]);
  };
  const convert = (node: ValueNode, path: readonly (string | number)[]): unknown => {
    if (node.type === "TOMLArray") return (node.elements ?? []).map((el, i) => convert(el, [...path, i]));
    if (node.type === "TOMLInlineTable") {
      const t = table();
      for (const kv of node.body ?? []) assign(t, kv, path);
      return t;
    }
    return node.value;
  };
  for (const node of top?.body ?? []) {
    if (node.type === "TOMLKeyValue") {
      assign(root, node, []);
      continue;
    }
    const path = names(node.key, []);
    let t = root;
    for (const n of path.slice(0, -1)) t = descend(t, n);
    const last = path[path.length - 1]!;
    let here: Table;
    if (node.kind === "array") {
      if (!Array.isArray(t[last])) t[last] = [];
      here = table();
      (t[last] as Table[]).push(here);
    } else {
      here = descend(t, last);
    }
    // The table's own path, with the index of an array-of-tables entry, for messages: steps[0].env.
    for (const kv of node.body) assign(here, kv, (node as { resolvedKey?: (string | number)[] }).resolvedKey ?? path);
  }
  return root;
}

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
