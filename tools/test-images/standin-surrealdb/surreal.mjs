// Stand-in for the surrealdb/surrealdb 2.x server: `surreal start [--log L] [--user U] [--pass P]
// [--bind HOST:PORT] [--strict] [memory]`, serving SurrealDB's HTTP API (/health, /status, /version,
// /sql) over an in-memory store and a documented SurrealQL subset (README.md). Plain Node, no deps.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { exitOnSignals, readBody, urlPath } from "/srv/lib/standin.mjs";

// ------------------------------------------------------------------ args --
const argv = process.argv.slice(2);
if (argv[0] !== "start") {
  console.error(`surreal (stand-in): only 'start' is supported, got ${JSON.stringify(argv[0] ?? "")}`);
  process.exit(2);
}
const opts = {
  user: process.env.SURREAL_USER,
  pass: process.env.SURREAL_PASS,
  bind: process.env.SURREAL_BIND ?? "127.0.0.1:8000",
  strict: /^(1|true)$/i.test(process.env.SURREAL_STRICT ?? ""),
  log: process.env.SURREAL_LOG ?? "info",
  path: "memory",
};
for (let i = 1; i < argv.length; i++) {
  const a = argv[i];
  const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
  const value = () => inline ?? argv[++i];
  if (flag === "-u" || flag === "--user" || flag === "--username") opts.user = value();
  else if (flag === "-p" || flag === "--pass" || flag === "--password") opts.pass = value();
  else if (flag === "-b" || flag === "--bind") opts.bind = value();
  else if (flag === "-l" || flag === "--log") opts.log = value();
  else if (flag === "-s" || flag === "--strict") opts.strict = true;
  else if (flag === "--unauthenticated") opts.unauthenticated = true;
  else if (flag.startsWith("-")) {
    console.error(`surreal (stand-in): unsupported option ${flag}`);
    process.exit(2);
  } else opts.path = a;
}
if (opts.path !== "memory" && opts.path !== "mem://") {
  console.error(`surreal (stand-in): only in-memory storage is supported, got ${opts.path}`);
  process.exit(2);
}
const [bindHost, bindPort] = (() => {
  const i = opts.bind.lastIndexOf(":");
  return [opts.bind.slice(0, i) || "0.0.0.0", Number(opts.bind.slice(i + 1))];
})();

// ----------------------------------------------------------------- store --
/** ns -> db -> table -> { defined, records: Map<id, object> } */
const namespaces = new Map();

class QueryError extends Error {}
class ParseError extends Error {}

function nsEntry(session, { create }) {
  if (!session.ns) throw new QueryError("Specify a namespace to use");
  let ns = namespaces.get(session.ns);
  if (!ns) {
    if (opts.strict || !create) {
      if (opts.strict) throw new QueryError(`The namespace '${session.ns}' does not exist`);
      return undefined;
    }
    ns = new Map();
    namespaces.set(session.ns, ns);
  }
  return ns;
}

function dbEntry(session, { create }) {
  if (!session.ns) throw new QueryError("Specify a namespace to use");
  if (!session.db) throw new QueryError("Specify a database to use");
  const ns = nsEntry(session, { create });
  if (!ns) return undefined;
  let db = ns.get(session.db);
  if (!db) {
    if (opts.strict) throw new QueryError(`The database '${session.db}' does not exist`);
    if (!create) return undefined;
    db = new Map();
    ns.set(session.db, db);
  }
  return db;
}

function tableEntry(session, name, { create }) {
  const db = dbEntry(session, { create });
  if (!db) return undefined;
  let t = db.get(name);
  if (!t) {
    if (opts.strict) throw new QueryError(`The table '${name}' does not exist`);
    if (!create) return undefined;
    t = { definition: `DEFINE TABLE ${name} TYPE ANY SCHEMALESS PERMISSIONS NONE`, records: new Map() };
    db.set(name, t);
  }
  return t;
}

// ------------------------------------------------------------- splitting --
/** Splits a query into statements on `;`, outside strings, brackets and comments. */
function splitStatements(text) {
  const out = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw new ParseError(`Parse error: Unexpected end of file, expected the string to end`);
      cur += text.slice(i, j + 1);
      i = j;
    } else if (c === "#" || (c === "-" && text[i + 1] === "-") || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
      cur += " ";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
      cur += " ";
    } else if (c === "{" || c === "[" || c === "(") {
      depth++;
      cur += c;
    } else if (c === "}" || c === "]" || c === ")") {
      depth--;
      cur += c;
    } else if (c === ";" && depth === 0) {
      if (cur.trim()) out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

// ---------------------------------------------------------------- values --
/** Parses one SurrealQL literal (JSON plus unquoted keys, single quotes, NONE, trailing commas). */
function parseValue(src, pos = 0) {
  const ws = () => {
    while (pos < src.length && /\s/.test(src[pos])) pos++;
  };
  const fail = (what) => {
    throw new ParseError(`Parse error: Unexpected token \`${src.slice(pos, pos + 12) || "end of input"}\`, expected ${what}`);
  };
  const value = () => {
    ws();
    const c = src[pos];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      const obj = c === "{" ? {} : [];
      pos++;
      for (;;) {
        ws();
        if (src[pos] === close) {
          pos++;
          return obj;
        }
        if (c === "{") {
          let key;
          if (src[pos] === "'" || src[pos] === '"') key = str();
          else {
            const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos));
            if (!m) fail("an object key");
            key = m[0];
            pos += key.length;
          }
          ws();
          if (src[pos] !== ":") fail("`:`");
          pos++;
          obj[key] = value();
        } else obj.push(value());
        ws();
        if (src[pos] === ",") pos++;
        else if (src[pos] !== close) fail(`\`,\` or \`${close}\``);
      }
    }
    if (c === "'" || c === '"') return str();
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z_])|^(true|false|null|NONE|NULL)\b/i.exec(src.slice(pos));
    if (!m) fail("a value");
    pos += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    const w = m[2].toLowerCase();
    return w === "true" ? true : w === "false" ? false : null;
  };
  const str = () => {
    const q = src[pos++];
    let s = "";
    while (pos < src.length && src[pos] !== q) {
      if (src[pos] === "\\") {
        const e = src[++pos];
        s += e === "n" ? "\n" : e === "t" ? "\t" : e;
      } else s += src[pos];
      pos++;
    }
    if (pos >= src.length) fail("the string to end");
    pos++;
    return s;
  };
  const v = value();
  ws();
  return { value: v, pos };
}

function parseWholeValue(src) {
  const { value, pos } = parseValue(src);
  if (pos !== src.length) throw new ParseError(`Parse error: Unexpected token \`${src.slice(pos, pos + 12)}\`, expected Eof`);
  return value;
}

/** `a = 1, b = 'x'` */
function parseAssignments(src) {
  const out = {};
  let rest = src.trim();
  while (rest) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(rest);
    if (!m) throw new ParseError(`Parse error: Unexpected token \`${rest.slice(0, 12)}\`, expected a field assignment`);
    const { value, pos } = parseValue(rest, m[0].length);
    out[m[1]] = value;
    rest = rest.slice(pos).trim();
    if (rest.startsWith(",")) rest = rest.slice(1).trim();
    else if (rest) throw new ParseError(`Parse error: Unexpected token \`${rest.slice(0, 12)}\`, expected \`,\``);
  }
  return out;
}

/** `a = 1 AND b != 'x'` */
function parseWhere(src) {
  return src.split(/\s+AND\s+/i).map((part) => {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|>=|<=|=|>|<)\s*(.+)$/.exec(part.trim());
    if (!m) throw new ParseError(`Parse error: Unexpected token \`${part.trim().slice(0, 12)}\`, expected a condition`);
    return { path: m[1].split("."), op: m[2], value: parseWholeValue(m[3].trim()) };
  });
}

function get(obj, path) {
  return path.reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function matches(rec, conds) {
  return conds.every(({ path, op, value }) => {
    const v = get(rec, path);
    switch (op) {
      case "=":
      case "==":
        return JSON.stringify(v) === JSON.stringify(value);
      case "!=":
        return JSON.stringify(v) !== JSON.stringify(value);
      case ">":
        return v > value;
      case "<":
        return v < value;
      case ">=":
        return v >= value;
      default:
        return v <= value;
    }
  });
}

// ------------------------------------------------------------ statements --
const ID = "([A-Za-z_][A-Za-z0-9_]*)";
const TARGET = `${ID}(?::([A-Za-z0-9_]+))?`;

/** Turns a statement's text into a function of the session (parse errors are thrown here). */
function compile(stmt) {
  let m;
  if ((m = new RegExp(`^DEFINE\\s+(NAMESPACE|NS|DATABASE|DB)\\s+(IF\\s+NOT\\s+EXISTS\\s+|OVERWRITE\\s+)?${ID}(\\s+COMMENT\\s+.*)?$`, "is").exec(stmt))) {
    const kind = /^N/i.test(m[1]) ? "namespace" : "database";
    const ifNotExists = /IF/i.test(m[2] ?? "");
    const name = m[3];
    return (s) => {
      if (kind === "namespace") {
        if (namespaces.has(name)) {
          if (ifNotExists) return null;
          throw new QueryError(`The namespace '${name}' already exists`);
        }
        namespaces.set(name, new Map());
        return null;
      }
      const ns = nsEntry(s, { create: true });
      if (ns.has(name)) {
        if (ifNotExists) return null;
        throw new QueryError(`The database '${name}' already exists`);
      }
      ns.set(name, new Map());
      return null;
    };
  }
  if ((m = new RegExp(`^DEFINE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+|OVERWRITE\\s+)?${ID}(\\s+.*)?$`, "is").exec(stmt))) {
    const ifNotExists = /IF/i.test(m[1] ?? "");
    const name = m[2];
    const rest = (m[3] ?? "").trim();
    return (s) => {
      const db = dbEntry(s, { create: true });
      if (db.has(name)) {
        if (ifNotExists) return null;
        throw new QueryError(`The table '${name}' already exists`);
      }
      const schema = /SCHEMAFULL/i.test(rest) ? "SCHEMAFULL" : "SCHEMALESS";
      db.set(name, { definition: `DEFINE TABLE ${name} TYPE ANY ${schema} PERMISSIONS NONE`, records: new Map() });
      return null;
    };
  }
  if ((m = new RegExp(`^REMOVE\\s+TABLE\\s+(IF\\s+EXISTS\\s+)?${ID}$`, "is").exec(stmt))) {
    const ifExists = !!m[1];
    const name = m[2];
    return (s) => {
      const db = dbEntry(s, { create: false });
      if (!db?.has(name)) {
        if (ifExists) return null;
        throw new QueryError(`The table '${name}' does not exist`);
      }
      db.delete(name);
      return null;
    };
  }
  if ((m = new RegExp(`^USE(?:\\s+(?:NS|NAMESPACE)\\s+${ID})?(?:\\s+(?:DB|DATABASE)\\s+${ID})?$`, "is").exec(stmt)) && (m[1] || m[2])) {
    const [, ns, db] = m;
    return (s) => {
      if (ns) s.ns = ns;
      if (db) s.db = db;
      return null;
    };
  }
  if ((m = new RegExp(`^CREATE\\s+${TARGET}(?:\\s+(CONTENT|SET)\\s+(.*))?$`, "is").exec(stmt))) {
    const [, table, id, kind, body] = m;
    const data = !kind ? {} : /CONTENT/i.test(kind) ? parseWholeValue(body.trim()) : parseAssignments(body);
    if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ParseError("Parse error: CONTENT expects an object");
    return (s) => {
      const t = tableEntry(s, table, { create: true });
      const given = id ?? (data.id === undefined ? undefined : String(data.id).replace(new RegExp(`^${table}:`), ""));
      const key = given ?? randomBytes(10).toString("hex").slice(0, 20);
      if (t.records.has(key)) throw new QueryError(`Database record \`${table}:${key}\` already exists`);
      const rec = { ...data, id: `${table}:${key}` };
      t.records.set(key, rec);
      return [rec];
    };
  }
  if ((m = new RegExp(`^SELECT\\s+(.+?)\\s+FROM\\s+${TARGET}(?:\\s+WHERE\\s+(.+?))?(\\s+GROUP\\s+ALL)?$`, "is").exec(stmt))) {
    const [, fieldsSrc, table, id, whereSrc, groupAll] = m;
    const fields = fieldsSrc.split(",").map((f) => f.trim());
    for (const f of fields) {
      if (f !== "*" && !/^count\(\)$/i.test(f) && !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(f)) {
        throw new ParseError(`Parse error: Unexpected token \`${f.slice(0, 12)}\`, expected a field (the stand-in supports *, names and count())`);
      }
    }
    const conds = whereSrc ? parseWhere(whereSrc) : [];
    return (s) => {
      const t = tableEntry(s, table, { create: false });
      if (!t) return [];
      let rows = [...t.records.values()].filter((r) => (id === undefined || r.id === `${table}:${id}`) && matches(r, conds));
      const hasCount = fields.some((f) => /^count\(\)$/i.test(f));
      if (groupAll && hasCount) return rows.length ? [{ count: rows.length }] : [];
      rows = rows.map((r) => {
        if (fields.includes("*")) return r;
        const out = {};
        for (const f of fields) {
          if (/^count\(\)$/i.test(f)) out.count = 1;
          else out[f.split(".").pop()] = get(r, f.split("."));
        }
        return out;
      });
      return rows;
    };
  }
  if ((m = new RegExp(`^DELETE\\s+(?:FROM\\s+)?${TARGET}(?:\\s+WHERE\\s+(.+))?$`, "is").exec(stmt))) {
    const [, table, id, whereSrc] = m;
    const conds = whereSrc ? parseWhere(whereSrc) : [];
    return (s) => {
      const t = tableEntry(s, table, { create: false });
      if (!t) return [];
      for (const [k, r] of t.records) if ((id === undefined || k === id) && matches(r, conds)) t.records.delete(k);
      return [];
    };
  }
  if ((m = /^RETURN\s+(.+)$/is.exec(stmt))) {
    const v = parseWholeValue(m[1].trim());
    return () => v;
  }
  if ((m = /^THROW\s+(.+)$/is.exec(stmt))) {
    const v = parseWholeValue(m[1].trim());
    return () => {
      throw new QueryError(`An error occurred: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    };
  }
  if ((m = /^INFO\s+FOR\s+(ROOT|KV|NS|NAMESPACE|DB|DATABASE)$/is.exec(stmt))) {
    const what = m[1].toUpperCase();
    return (s) => {
      if (what === "ROOT" || what === "KV") {
        return { accesses: {}, namespaces: Object.fromEntries([...namespaces.keys()].map((n) => [n, `DEFINE NAMESPACE ${n}`])), nodes: {}, system: {}, users: {} };
      }
      if (what === "NS" || what === "NAMESPACE") {
        const ns = nsEntry(s, { create: false });
        return { accesses: {}, databases: Object.fromEntries([...(ns?.keys() ?? [])].map((d) => [d, `DEFINE DATABASE ${d}`])), users: {} };
      }
      const db = dbEntry(s, { create: false });
      const tables = Object.fromEntries([...(db?.entries() ?? [])].map(([n, t]) => [n, t.definition]));
      return { accesses: {}, analyzers: {}, apis: {}, buckets: {}, configs: {}, functions: {}, models: {}, params: {}, tables, users: {} };
    };
  }
  if (/^(BEGIN|COMMIT|CANCEL)(\s+TRANSACTION)?$/is.test(stmt)) return "skip";
  const word = stmt.split(/\s+/)[0];
  throw new ParseError(`Parse error: Unexpected token \`${word}\`, expected Eof (the stand-in supports a SurrealQL subset: see its README)`);
}

function elapsed(startNs) {
  const us = Number(process.hrtime.bigint() - startNs) / 1000;
  return us < 1000 ? `${us.toFixed(1)}µs` : `${(us / 1000).toFixed(3)}ms`;
}

function runQuery(text, session, authed) {
  const compiled = splitStatements(text).map(compile).filter((c) => c !== "skip");
  return compiled.map((fn) => {
    const start = process.hrtime.bigint();
    try {
      if (!authed) throw new QueryError("IAM error: Not enough permissions to perform this action");
      const result = fn(session);
      return { result, status: "OK", time: elapsed(start) };
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      return { result: err.message, status: "ERR", time: elapsed(start) };
    }
  });
}

// ------------------------------------------------------------------ http --
function log(level, msg) {
  const order = ["none", "error", "warn", "info", "debug", "trace", "full"];
  if (order.indexOf(level) <= order.indexOf(opts.log)) console.log(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} surrealdb::standin: ${msg}`);
}

function send(res, status, body, type = "application/json") {
  const data = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(data), server: "SurrealDB", "surreal-version": "surrealdb-2.3.10-standin" });
  res.end(data);
}

const AUTH_FAILED = {
  code: 401,
  details: "Authentication failed",
  description: "Your authentication details are invalid. Reauthenticate using valid authentication parameters.",
  information: "There was a problem with authentication",
};

/** true: root user; false: guest (no credentials); null: wrong credentials. */
function authenticate(req) {
  if (opts.unauthenticated || opts.user === undefined) return true;
  const h = req.headers.authorization;
  if (!h) return false;
  const m = /^Basic\s+(.+)$/i.exec(h);
  if (!m) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i >= 0 && decoded.slice(0, i) === opts.user && decoded.slice(i + 1) === (opts.pass ?? "") ? true : null;
}

const server = createServer((req, res) => {
  const path = urlPath(req);
  if (req.method === "GET" && (path === "/health" || path === "/status")) return send(res, 200, "", "text/plain");
  if (req.method === "GET" && path === "/version") return send(res, 200, "surrealdb-2.3.10-standin", "text/plain");
  if (path !== "/sql") return send(res, 404, { code: 404, details: "Requested resource not found", description: "The requested resource does not exist." });
  if (req.method !== "POST") return send(res, 405, { code: 405, details: "Method not allowed" });
  readBody(req).then((raw) => {
    const authed = authenticate(req);
    if (authed === null) {
      log("debug", "authentication failed");
      return send(res, 401, AUTH_FAILED);
    }
    const header = (...names) => names.map((n) => req.headers[n]).find((v) => typeof v === "string" && v.length > 0);
    const session = { ns: header("surreal-ns", "ns"), db: header("surreal-db", "db") };
    const text = raw.toString("utf8");
    try {
      const results = runQuery(text, session, authed);
      log("debug", `executed ${results.length} statement(s)`);
      send(res, 200, results);
    } catch (err) {
      if (err instanceof ParseError) {
        return send(res, 400, {
          code: 400,
          details: "Request problems detected",
          description: "There is a problem with your request. Refer to the documentation for further information.",
          information: err.message,
        });
      }
      log("error", String(err?.stack ?? err));
      send(res, 500, { code: 500, details: "Internal error", information: String(err?.message ?? err) });
    }
  });
});

server.listen(bindPort, bindHost, () => {
  log("info", `Started web server on ${bindHost}:${bindPort}${opts.strict ? " (strict mode)" : ""}`);
});
exitOnSignals();
