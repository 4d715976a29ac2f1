// Shared helpers for the plain-Node stand-in servers (tools/test-images/standin-*), baked into
// clnrm-test/node:24 at /srv/lib/standin.mjs. No dependencies. Use:
//   import { exitOnSignals, readJson, sendJson } from "/srv/lib/standin.mjs";

/** Exit at once (code 0) on SIGTERM / SIGINT, so container stops are fast. */
export function exitOnSignals() {
  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
}

/**
 * The request's whole body as one Buffer. Never rejects: a request aborted mid-body simply never
 * resolves (there is no one left to answer), so a stand-in cannot crash on a client hang-up.
 */
export function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/** The request body parsed as JSON: `{}` when empty, `undefined` when it is not valid JSON. */
export async function readJson(req) {
  const text = (await readBody(req)).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return undefined;
  }
}

/** Answers `status` with `body` as JSON; `type` overrides the content type. */
export function sendJson(res, status, body, type = "application/json") {
  res.writeHead(status, { "content-type": type });
  res.end(JSON.stringify(body));
}

/** The request's path, without the query string. */
export const urlPath = (req) => (req.url ?? "/").split("?")[0];

/**
 * A command-line option's value, `--name value` or `--name=value` (the first `--name value` wins,
 * then the first `--name=value`); `fallback` when absent or when `--name` is the last argument.
 */
export function argValue(argv, name, fallback) {
  const i = argv.indexOf(name);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq ? eq.slice(name.length + 1) : fallback;
}
