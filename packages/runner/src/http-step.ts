import { BoundedOutput, fmtMs, REDACTED, redact, registerSecret, SECRET_KEY_RE, sleep, type UserRegex, userRegexSchema, z } from "@clnrm/core";

/**
 * `http` steps: a request clnrm makes itself, from the host, with Node's fetch (undici), and what
 * its response must be. No image needs curl.
 *
 *   http = { method = "POST", url = "${services.api.url}/items", headers = { … }, json = { … } }
 *   expected_status = 201                       # or [200, 201]; default: any 2xx
 *   expected_json = { "/data/0/id" = 1 }        # JSON pointers (RFC 6901) …
 *   expected_json = { name = "a", tags = ["x"] } # … or a subset of the body
 *   expected_body_regex = "\"ok\":\\s*true"      # RE2, anywhere in the body
 *   expected_headers = { content-type = "^application/json" } # RE2 per header (names ignore case)
 */

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** A header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REF = /\$\{services\.[^}]*\}/g;

const headersSchema = z.record(z.string(), z.string()).superRefine((h, ctx) => {
  for (const k of Object.keys(h)) if (!HEADER_NAME.test(k)) ctx.addIssue({ code: "custom", path: [k], message: `invalid header name ${JSON.stringify(k)}: use letters, digits and !#$%&'*+-.^_\`|~` });
});

/** Why a URL as written can't be requested, or undefined. A URL that starts with a reference is checked once it is resolved. */
export function urlProblem(url: string): string | undefined {
  if (/^\$\{services\./.test(url)) return undefined;
  let u: URL;
  try {
    u = new URL(url.replace(REF, "x"));
  } catch {
    return `invalid url ${JSON.stringify(url)}: write an absolute URL such as "http://localhost:8080/health" or "\${services.api.url}/health"`;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return `url ${JSON.stringify(url)}: only http:// and https:// URLs can be requested${url.includes("://") ? "" : ` (did you mean "http://${url}"?)`}`;
  }
  return undefined;
}

export const httpRequestSchema = z
  .strictObject({
    method: z
      .string()
      .default("GET")
      .transform((m, ctx) => {
        const up = m.toUpperCase();
        if (!(HTTP_METHODS as readonly string[]).includes(up)) {
          ctx.addIssue({ code: "custom", message: `invalid http method ${JSON.stringify(m)}: use one of ${HTTP_METHODS.join(", ")}` });
          return z.NEVER;
        }
        return up as (typeof HTTP_METHODS)[number];
      }),
    url: z
      .string()
      .min(1, "url must not be empty")
      .superRefine((u, ctx) => {
        const why = urlProblem(u);
        if (why) ctx.addIssue({ code: "custom", message: why });
      }),
    headers: headersSchema.default({}),
    /** The request body as text. */
    body: z.string().optional(),
    /** The request body as JSON (any TOML value); sets content-type: application/json unless a header does. */
    json: z.unknown().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.body !== undefined && r.json !== undefined) ctx.addIssue({ code: "custom", path: ["json"], message: "give body or json, not both" });
    if ((r.method === "GET" || r.method === "HEAD") && (r.body !== undefined || r.json !== undefined)) {
      ctx.addIssue({ code: "custom", path: [r.body !== undefined ? "body" : "json"], message: `a ${r.method} request has no body: use method = "POST" (or PUT, PATCH)` });
    }
  });

export type HttpRequestConfig = z.output<typeof httpRequestSchema>;

const statusCode = z.number().int().min(100, "an HTTP status is 100–599").max(599, "an HTTP status is 100–599");
export const expectedStatusSchema = z.union([statusCode, z.array(statusCode).min(1)]).transform((s) => (Array.isArray(s) ? s : [s]));

/** JSON pointer keys (RFC 6901): "/a/0/b", with ~0 for ~ and ~1 for /. */
function pointerProblem(p: string): string | undefined {
  if (/~(?![01])/.test(p)) return `invalid JSON pointer ${JSON.stringify(p)}: '~' must be written ~0 (and '/' inside a key ~1)`;
  return undefined;
}

export const expectedJsonSchema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).superRefine((v, ctx) => {
  if (Array.isArray(v)) return;
  for (const k of Object.keys(v)) {
    const why = k.startsWith("/") ? pointerProblem(k) : undefined;
    if (why) ctx.addIssue({ code: "custom", path: [k], message: why });
  }
});

const bodyRegex = userRegexSchema("m");
export const expectedBodyRegexSchema = bodyRegex;
export const expectedHeadersSchema = z.record(z.string(), userRegexSchema("i")).superRefine((h, ctx) => {
  for (const k of Object.keys(h)) if (!HEADER_NAME.test(k)) ctx.addIssue({ code: "custom", path: [k], message: `invalid header name ${JSON.stringify(k)}` });
});

/** The parts of a step an http step uses (the step's values already interpolated). */
export interface HttpStep {
  readonly name: string;
  readonly http: HttpRequestConfig;
  readonly expected_status?: readonly number[] | undefined;
  readonly expected_json?: unknown;
  readonly expected_body_regex?: UserRegex | undefined;
  readonly expected_headers?: Readonly<Record<string, UserRegex>> | undefined;
  readonly timeout: number;
  readonly retries: number;
  readonly retry_interval: number;
}

/** Bodies past this size are not read further: matched and shown up to here, and the step fails. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** How much of a body a failure shows. */
const BODY_HEAD_CHARS = 2_000;
const BODY_HEAD_LINES = 20;

/** Header names whose values are credentials: never shown, registered as secrets. */
const SECRET_HEADER_RE = /^(authorization|proxy-authorization|cookie|set-cookie)$|(^|-)(token|key|secret|password|auth)$/i;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER_RE.test(name) || SECRET_KEY_RE.test(name.replace(/-/g, "_"));
}

/** Registers the credentials in a request's headers (the whole value, and the part after `Bearer ` / `Basic `). */
export function registerHeaderSecrets(headers: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(headers)) {
    if (!isSecretHeader(k)) continue;
    registerSecret(v);
    const cred = /^\s*[A-Za-z][\w-]*\s+(\S.*)$/.exec(v)?.[1];
    if (cred) registerSecret(cred.trim());
  }
}

export interface HttpOutcome {
  readonly status: number | undefined;
  readonly body: string;
  /** Why the response doesn't meet the step's expectations (with the request and the response), or undefined. */
  readonly failure: string | undefined;
}

/** The value at a JSON pointer, or `missing` with the deepest path that exists. */
export function atPointer(doc: unknown, pointer: string): { found: true; value: unknown } | { found: false; at: string; why: string } {
  if (pointer === "") return { found: true, value: doc };
  const parts = pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let cur = doc;
  let at = "";
  for (const part of parts) {
    if (Array.isArray(cur)) {
      const i = /^(0|[1-9]\d*)$/.test(part) ? Number(part) : Number.NaN;
      if (!(i < cur.length)) return { found: false, at, why: `${at || "the body"} is an array of ${cur.length} item${cur.length === 1 ? "" : "s"}` };
      cur = cur[i];
    } else if (cur !== null && typeof cur === "object") {
      if (!Object.hasOwn(cur, part)) return { found: false, at, why: `${at || "the body"} has no key ${JSON.stringify(part)}` };
      cur = (cur as Record<string, unknown>)[part];
    } else {
      return { found: false, at, why: `${at || "the body"} is ${show(cur)}, not an object or array` };
    }
    at += `/${part.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  }
  return { found: true, value: cur };
}

function show(v: unknown): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v);

/**
 * Where `actual` does not contain `expected`, or undefined: an object must have every expected key
 * (others may be there too) with a matching value; an array must have as many items, each matching;
 * anything else must be equal (a TOML date matches its ISO text).
 */
export function subsetMismatch(actual: unknown, expected: unknown, at: string): string | undefined {
  if (expected instanceof Date) expected = expected.toISOString();
  if (typeof expected === "bigint") expected = Number(expected);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at || "the body"}: expected an array, got ${show(actual)}`;
    if (actual.length !== expected.length) return `${at || "the body"}: expected an array of ${expected.length} items, got ${actual.length}: ${show(actual)}`;
    for (const [i, e] of expected.entries()) {
      const m = subsetMismatch(actual[i], e, `${at}/${i}`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return `${at || "the body"}: expected an object, got ${show(actual)}`;
    for (const [k, e] of Object.entries(expected)) {
      const p = `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (!Object.hasOwn(actual, k)) return `${p} is missing (${at || "the body"} has ${Object.keys(actual).length ? `keys ${Object.keys(actual).slice(0, 10).map((x) => JSON.stringify(x)).join(", ")}` : "no keys"})`;
      const m = subsetMismatch((actual as Record<string, unknown>)[k], e, p);
      if (m) return m;
    }
    return undefined;
  }
  if (actual === expected) return undefined;
  return `${at || "the body"}: expected ${show(expected)}${kind(actual) === kind(expected) ? "" : ` (${kind(expected)})`}, got ${show(actual)}${kind(actual) === kind(expected) ? "" : ` (${kind(actual)})`}`;
}

/** Why a JSON body doesn't meet `expected_json` (see the module comment), or undefined. */
export function jsonMismatch(body: unknown, expected: unknown): string | undefined {
  if (Array.isArray(expected) || expected === null || typeof expected !== "object") return subsetMismatch(body, expected, "");
  for (const [k, e] of Object.entries(expected)) {
    if (!k.startsWith("/")) {
      const m = subsetMismatch(body, { [k]: e }, "");
      if (m) return m;
      continue;
    }
    const got = atPointer(body, k);
    if (!got.found) return `${k} is missing: ${got.why}`;
    const m = subsetMismatch(got.value, e, k);
    if (m) return m;
  }
  return undefined;
}

function head(text: string): string {
  let t = text.length > BODY_HEAD_CHARS ? `${text.slice(0, BODY_HEAD_CHARS)}…` : text;
  const lines = t.split("\n");
  if (lines.length > BODY_HEAD_LINES) t = `${lines.slice(0, BODY_HEAD_LINES).join("\n")}\n…`;
  return t;
}

function showHeaders(headers: Iterable<[string, string]>): string {
  const out: string[] = [];
  for (const [k, v] of headers) out.push(`${k}: ${isSecretHeader(k) ? REDACTED : redact(v)}`);
  return out.join("\n");
}

/** What a failure shows: the request, then the response's status, headers and the head of its body. */
function describe(req: { method: string; url: string; headers: Record<string, string>; body: string | undefined }, res: Response | undefined, body: string, problem: string): string {
  const indent = (s: string) => s.replace(/^/gm, "    ");
  const lines = [problem, `  request: ${req.method} ${redact(req.url)}`];
  const rh = showHeaders(Object.entries(req.headers));
  if (rh) lines.push(indent(rh));
  if (req.body !== undefined) lines.push(`  request body:\n${indent(redact(head(req.body)))}`);
  if (res) {
    lines.push(`  response: ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    const h = showHeaders(res.headers.entries());
    if (h) lines.push(indent(h));
    lines.push(body ? `  body (first ${Math.min(BODY_HEAD_LINES, body.split("\n").length)} lines):\n${indent(redact(head(body)))}` : "  body: (empty)");
  }
  return `${lines.join("\n")}\n`;
}

async function readBody(res: Response): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: "", truncated: false };
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const take = Math.min(chunk.byteLength, MAX_BODY_BYTES - size);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, take));
    size += take;
    if (size >= MAX_BODY_BYTES) {
      truncated = true;
      break;
    }
  }
  if (truncated) await res.body.cancel().catch(() => {});
  return { text: Buffer.concat(chunks).toString("utf8"), truncated };
}

/** Why a request could not be made or answered, from fetch's error (undici puts the reason in `cause`). */
function requestError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "no response";
  const cause = e.cause;
  if (cause?.code && cause.message) return cause.message.includes(cause.code) ? cause.message : `${cause.code}: ${cause.message}`;
  return cause?.message ?? e.message;
}

/** Makes the request once and checks the response. */
export async function httpAttempt(step: HttpStep, signal: AbortSignal): Promise<HttpOutcome> {
  const { method, url } = step.http;
  const headers: Record<string, string> = { ...step.http.headers };
  registerHeaderSecrets(headers);
  let body = step.http.body;
  if (step.http.json !== undefined) {
    body = JSON.stringify(step.http.json, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  }
  const req = { method, url, headers, body };
  const why = urlProblem(url);
  if (why) return { status: undefined, body: "", failure: describe(req, undefined, "", why) };
  let res: Response;
  const timeout = AbortSignal.timeout(step.timeout);
  try {
    res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), redirect: "manual", signal: AbortSignal.any([signal, timeout]) });
  } catch (err) {
    const problem = signal.aborted ? "interrupted" : timeout.aborted ? `timed out after ${fmtMs(step.timeout)}: no response` : `request failed: ${requestError(err)}`;
    return { status: undefined, body: "", failure: describe(req, undefined, "", problem) };
  }
  let text: string;
  let truncated: boolean;
  try {
    ({ text, truncated } = await readBody(res));
  } catch (err) {
    const problem = signal.aborted ? "interrupted" : timeout.aborted ? `timed out after ${fmtMs(step.timeout)} reading the body` : `reading the body failed: ${requestError(err)}`;
    return { status: res.status, body: "", failure: describe(req, res, "", problem) };
  }
  const problems: string[] = [];
  const want = step.expected_status;
  if (want ? !want.includes(res.status) : res.status < 200 || res.status > 299) {
    problems.push(`expected status ${want ? want.join(" or ") : "2xx"}, got ${res.status}`);
  }
  for (const [name, re] of Object.entries(step.expected_headers ?? {})) {
    const got = res.headers.get(name);
    if (got === null) problems.push(`expected header ${name}, which the response does not have`);
    else if (!re.test(got)) problems.push(`expected header ${name} to match /${re.source}/, got ${JSON.stringify(isSecretHeader(name) ? REDACTED : redact(got))}`);
  }
  if (truncated) problems.push(`the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB; only its first ${MAX_BODY_BYTES / 1024 / 1024} MiB were checked`);
  if (step.expected_body_regex && !step.expected_body_regex.test(text)) problems.push(`expected the body to match /${step.expected_body_regex.source}/`);
  if (step.expected_json !== undefined) {
    let parsed: unknown;
    let ok = true;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      ok = false;
      problems.push(`expected a JSON body, but it does not parse (${(err as Error).message}; content-type: ${res.headers.get("content-type") ?? "none"})`);
    }
    const m = ok ? jsonMismatch(parsed, step.expected_json) : undefined;
    if (m) problems.push(`expected_json: ${m}`);
  }
  return { status: res.status, body: text, failure: problems.length ? describe(req, res, text, problems.join("; ")) : undefined };
}

export interface HttpStepResult {
  readonly status: "passed" | "failed";
  readonly httpStatus: number | undefined;
  /** The head and tail of the last response's body. */
  readonly body: string;
  readonly attempts: number;
  readonly failure: string | undefined;
}

/** Runs an http step with its retries (each attempt within the step's timeout). */
export async function runHttpStep(step: HttpStep, signal: AbortSignal): Promise<HttpStepResult> {
  let attempts = 0;
  for (;;) {
    attempts++;
    const r = await httpAttempt(step, signal);
    if (!r.failure || attempts > step.retries || signal.aborted) {
      const out = new BoundedOutput();
      out.push(Buffer.from(r.body));
      return {
        status: r.failure ? "failed" : "passed",
        httpStatus: r.status,
        body: out.text(),
        attempts,
        failure: r.failure && attempts > 1 ? `after ${attempts} attempts: ${r.failure}` : r.failure,
      };
    }
    await sleep(step.retry_interval, signal);
  }
}
