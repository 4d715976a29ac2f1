// `surreal start [--log L] [--user U] [--pass P] [--bind HOST:PORT] [--strict] [--unauthenticated]
// [memory]`: SurrealDB's HTTP API (/health, /status, /version, /sql, /signin) as a thin layer over
// the real SurrealDB engine embedded by @surrealdb/node (README.md). Every statement is run, parsed,
// checked and answered by the engine; this file only maps HTTP requests onto the engine's RPC
// methods (reset, signin, authenticate, use, query, version) and the answers back onto HTTP.
import { createServer } from "node:http";
import { NodeEngine } from "@surrealdb/node";
import { CborCodec, jsonify } from "surrealdb";
import { exitOnSignals, readBody, urlPath } from "/srv/lib/standin.mjs";

// ------------------------------------------------------------------ args --
const argv = process.argv.slice(2);
if (argv[0] !== "start") {
  console.error(`surreal (test build): only 'start' is supported, got ${JSON.stringify(argv[0] ?? "")}`);
  process.exit(2);
}
const opts = {
  user: process.env.SURREAL_USER,
  pass: process.env.SURREAL_PASS,
  bind: process.env.SURREAL_BIND ?? "127.0.0.1:8000",
  strict: /^(1|true)$/i.test(process.env.SURREAL_STRICT ?? ""),
  unauthenticated: /^(1|true)$/i.test(process.env.SURREAL_UNAUTHENTICATED ?? ""),
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
    console.error(`surreal (test build): unsupported option ${flag}`);
    process.exit(2);
  } else opts.path = a;
}
if (opts.path !== "memory" && opts.path !== "mem://") {
  console.error(`surreal (test build): only in-memory storage is supported, got ${opts.path}`);
  process.exit(2);
}
const [bindHost, bindPort] = (() => {
  const i = opts.bind.lastIndexOf(":");
  return [opts.bind.slice(0, i) || "0.0.0.0", Number(opts.bind.slice(i + 1))];
})();

function log(level, msg) {
  const order = ["none", "error", "warn", "info", "debug", "trace", "full"];
  if (order.indexOf(level) <= order.indexOf(opts.log)) {
    console.log(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} surrealdb::net: ${msg}`);
  }
}

// ---------------------------------------------------------------- engine --
let nextId = 0;
async function openEngine() {
  const engine = new NodeEngine({ uniqueId: () => `${++nextId}`, codecs: { cbor: CborCodec.DEFAULT } }, { strict: opts.strict });
  await new Promise((resolve, reject) => {
    const off = [
      engine.subscribe("connected", () => (off.forEach((f) => f()), resolve())),
      engine.subscribe("error", (err) => (off.forEach((f) => f()), reject(err))),
    ];
    engine.open({ url: new URL("mem://") });
  }).catch((err) => {
    console.error(`surreal (test build): the embedded engine did not start: ${err?.cause?.message ?? err?.message ?? err}`);
    process.exit(1);
  });
  return (method, params) => engine.send(params === undefined ? { method } : { method, params });
}
const rpc = await openEngine();

// `surreal start --user U --pass P` defines that root user at start, as the server does.
const authEnabled = !opts.unauthenticated && opts.user !== undefined;
if (authEnabled) {
  const q = (s) => `'${String(s).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const [r] = await rpc("query", [`DEFINE USER IF NOT EXISTS ${opts.user} ON ROOT PASSWORD ${q(opts.pass ?? "")} ROLES OWNER`]);
  if (r?.status !== "OK") {
    console.error(`surreal (test build): cannot define the root user: ${r?.result}`);
    process.exit(2);
  }
}
const VERSION = await rpc("version");

// One engine session for every request, so requests run one at a time: each starts from an
// `invalidate`d session (no auth) with namespace and database unset (`use` with nulls; the RPC
// `reset` is not implemented by the embedded engine and panics), then takes the request's
// credentials and namespace/database.
let queue = Promise.resolve();
const serialised = (fn) => {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
};

// ------------------------------------------------------------------ http --
function send(res, status, body, type = "application/json") {
  const data = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(data), server: "SurrealDB", "surreal-version": VERSION });
  res.end(data);
}

const AUTH_FAILED = {
  code: 401,
  details: "Authentication failed",
  description: "Your authentication details are invalid. Reauthenticate using valid authentication parameters.",
  information: "There was a problem with authentication",
};
const badRequest = (information) => ({
  code: 400,
  details: "Request problems detected",
  description: "There is a problem with your request. Refer to the documentation for further information.",
  information,
});
const message = (err) => String(err?.message ?? err);

/** Signs the (reset) session in with the request's Authorization header; false: it was refused. */
async function signIn(req) {
  const h = req.headers.authorization;
  if (!h) return true;
  const basic = /^Basic\s+(.+)$/i.exec(h);
  const bearer = /^Bearer\s+(.+)$/i.exec(h);
  try {
    if (basic) {
      const decoded = Buffer.from(basic[1], "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i < 0) return false;
      await rpc("signin", [{ user: decoded.slice(0, i), pass: decoded.slice(i + 1) }]);
    } else if (bearer) await rpc("authenticate", [bearer[1].trim()]);
    else return false;
    return true;
  } catch (err) {
    log("debug", `authentication failed: ${message(err)}`);
    return false;
  }
}

let scratch;
const header = (req, ...names) => names.map((n) => req.headers[n]).find((v) => typeof v === "string" && v.length > 0);

async function fresh() {
  await rpc("invalidate");
  await rpc("use", [null, null]);
}

async function sql(req, res, text) {
  await fresh();
  if (!(await signIn(req))) return send(res, 401, AUTH_FAILED);
  const ns = header(req, "surreal-ns", "ns");
  const db = header(req, "surreal-db", "db");
  if (ns || db) {
    try {
      await rpc("use", [ns ?? null, db ?? null]);
    } catch (err) {
      return send(res, 400, badRequest(message(err)));
    }
  }
  // The server refuses guests (no credentials) when it has a root user and --allow-guests is not
  // given. The embedded engine runs with authentication off, so the refusal is made here: the
  // text goes to a scratch engine (parse errors stay the engine's, nothing reaches the real
  // data) and every statement answers the server's IAM error.
  const guest = authEnabled && !req.headers.authorization;
  let results;
  try {
    results = await (guest ? (scratch ??= await openEngine()) : rpc)("query", [text]);
  } catch (err) {
    return send(res, 400, badRequest(message(err)));
  }
  if (guest) {
    const refused = "IAM error: Not enough permissions to perform this action";
    return send(res, 200, results.map((r) => ({ result: refused, status: "ERR", time: r.time })));
  }
  send(
    res,
    200,
    results.map((r) => ({ result: jsonify(r.result), status: r.status, time: r.time })),
  );
}

async function signin(req, res, raw) {
  let body;
  try {
    body = JSON.parse(raw || "{}");
  } catch {
    return send(res, 400, badRequest("The request body contains invalid JSON"));
  }
  await fresh();
  try {
    const token = await rpc("signin", [body]);
    send(res, 200, { code: 200, details: "Authentication succeeded", token: typeof token === "string" ? token : token?.access });
  } catch (err) {
    log("debug", `signin failed: ${message(err)}`);
    send(res, 401, AUTH_FAILED);
  }
}

const server = createServer((req, res) => {
  const path = urlPath(req);
  if (req.method === "GET" && (path === "/health" || path === "/status")) return send(res, 200, "", "text/plain");
  if (req.method === "GET" && path === "/version") return send(res, 200, VERSION, "text/plain");
  if (path !== "/sql" && path !== "/signin") {
    return send(res, 404, { code: 404, details: "Requested resource not found", description: "The requested resource does not exist." });
  }
  if (req.method !== "POST") return send(res, 405, { code: 405, details: "Method not allowed" });
  readBody(req).then((raw) =>
    serialised(() => (path === "/sql" ? sql : signin)(req, res, raw.toString("utf8"))).catch((err) => {
      log("error", String(err?.stack ?? err));
      if (!res.headersSent) send(res, 500, { code: 500, details: "Internal error", information: message(err) });
    }),
  );
});

server.listen(bindPort, bindHost, () => {
  log("info", `Started web server on ${bindHost}:${bindPort}${opts.strict ? " (strict mode)" : ""}`);
});
exitOnSignals();
