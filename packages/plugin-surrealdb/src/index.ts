import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import {
  type ContainerSpec,
  definePlugin,
  HealthError,
  HealthStatus,
  type Outputs,
  type RunningContainer,
  runOptions,
  ValidationError,
} from "@clnrm/plugin-api";
import { envSchema, fixedHostPortSchema, z } from "@clnrm/plugin-kit";

/** The real upstream image, pinned. */
export const DEFAULT_IMAGE = "surrealdb/surrealdb:v2.3.10";
/** The port SurrealDB's HTTP/WebSocket API listens on inside the container. */
export const SURREAL_PORT = 8000;
/** Env carrying the root password (read by `surreal start` as `--pass`), so it never sits on a command line. */
export const PASS_ENV = "SURREAL_PASS";

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "use letters, digits and '_' (not starting with a digit)");

const userSchema = z
  .string()
  .min(1, "user must not be empty")
  .refine((u) => !u.includes(":"), "user must not contain ':'");
const passSchema = z.string().min(1, "pass must not be empty");

/**
 * The service table. The credentials are `auth.user` / `auth.pass` (the spec's spelling); the flat
 * `user` / `pass` of earlier versions are accepted too, but not both spellings of one key. The
 * parsed config has them flat (`user`, `pass`).
 */
export const configSchema = z
  .strictObject({
    image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The image; the default is the real upstream image, pinned."),
    auth: z.strictObject({ user: userSchema.optional(), pass: passSchema.optional() }).optional().describe("Root credentials: `auth.user` (`--user`, default \"root\") and `auth.pass` (secret, passed as SURREAL_PASS, default \"root\")."),
    user: userSchema.optional().describe("Same as `auth.user` (the older spelling)."),
    pass: passSchema.optional().describe("Same as `auth.pass` (the older spelling). Secret."),
    namespace: identifier.default("test").describe("Namespace defined at start and used for init scripts; output `ns`."),
    database: identifier.default("test").describe("Database defined at start and used for init scripts; output `db`."),
    strict: z.boolean().default(false).describe("`surreal start --strict`: tables, namespaces and databases must be defined before use."),
    init_scripts: z.array(z.string().trim().min(1, "an init script path must not be empty")).default([]).describe("SurrealQL files, relative to the test file, run in order after the database is set up."),
    init: z.string().optional().describe("Inline SurrealQL, run after the init_scripts."),
    port: fixedHostPortSchema(SURREAL_PORT, "SurrealDB").optional().describe("Fixed host port for the API (18000 or \"18000:8000\"); a random free port otherwise."),
    env: envSchema
      .default({})
      .refine((e) => !("SURREAL_PASS" in e) && !("SURREAL_USER" in e), "set the credentials with `auth.user` and `auth.pass`, not SURREAL_USER/SURREAL_PASS in env")
      .describe("Extra environment variables (SURREAL_* server settings, for example)."),
  })
  .transform((c, ctx) => {
    const { auth, user, pass, ...rest } = c;
    for (const [key, flat] of [
      ["user", user],
      ["pass", pass],
    ] as const) {
      if (flat !== undefined && auth?.[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `'${key}' and 'auth.${key}' are the same setting: keep 'auth.${key}'` });
      }
    }
    return { ...rest, user: auth?.user ?? user ?? "root", pass: auth?.pass ?? pass ?? "root" };
  });

export type SurrealDbConfig = z.output<typeof configSchema>;

/** The ContainerSpec this plugin runs for a config: plain data, asserted by the unit tests. */
export function toContainerSpec(config: SurrealDbConfig): ContainerSpec {
  const command = ["start", "--log", "info", "--user", config.user, "--bind", `0.0.0.0:${SURREAL_PORT}`];
  if (config.strict) command.push("--strict");
  command.push("memory");
  return {
    image: config.image,
    entrypoint: ["/surreal"],
    command,
    env: { ...config.env, [PASS_ENV]: config.pass },
    secretEnv: [PASS_ENV],
    ports: [config.port === undefined ? { container: SURREAL_PORT } : { container: SURREAL_PORT, host: config.port }],
    health: { kind: "http", port: SURREAL_PORT, path: "/health", status: 200 },
  };
}

/** Replaces every occurrence of the secret in a text. */
export function scrub(text: string, secret: string): string {
  return secret ? text.split(secret).join("***") : text;
}

export interface SqlTarget {
  /** http://host:port */
  url: string;
  user: string;
  pass: string;
  ns?: string;
  db?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SqlResult {
  status: string;
  result: unknown;
  time?: string;
}

function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/**
 * Runs SurrealQL over HTTP `POST /sql` (basic auth, surreal-ns/surreal-db headers and the 1.x NS/DB
 * ones) and returns one result per statement. Transport, auth and parse failures throw a HealthError
 * that never contains the password.
 */
export async function surrealQuery(target: SqlTarget, sql: string): Promise<SqlResult[]> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Content-Type": "text/plain",
    Authorization: `Basic ${Buffer.from(`${target.user}:${target.pass}`).toString("base64")}`,
  };
  if (target.ns) Object.assign(headers, { "surreal-ns": target.ns, NS: target.ns });
  if (target.db) Object.assign(headers, { "surreal-db": target.db, DB: target.db });
  const signals = [AbortSignal.timeout(target.timeoutMs ?? 30_000), ...(target.signal ? [target.signal] : [])];
  let res: Response;
  let body: string;
  try {
    res = await fetch(`${target.url}/sql`, { method: "POST", headers, body: sql, signal: AbortSignal.any(signals) });
    body = await res.text();
  } catch (err) {
    const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new HealthError(`SurrealDB at ${target.url} did not answer POST /sql: ${scrub(oneLine(why), target.pass)}`, {
      hint: "check that the container is running and its port is reachable",
    });
  }
  if (res.status === 401 || res.status === 403) {
    throw new HealthError(`SurrealDB rejected the credentials of user '${scrub(target.user, target.pass)}' (HTTP ${res.status})`, {
      hint: "check the service's `auth.user` and `auth.pass`",
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const info = parsed && typeof parsed === "object" ? ((parsed as Record<string, unknown>).information ?? (parsed as Record<string, unknown>).details) : undefined;
    throw new HealthError(`SurrealDB answered HTTP ${res.status} to POST /sql: ${scrub(oneLine(String(info ?? body)), target.pass)}`, {
      hint: "check the SurrealQL sent to the server",
    });
  }
  if (!Array.isArray(parsed) || !parsed.every((r) => r && typeof r === "object" && typeof (r as SqlResult).status === "string")) {
    throw new HealthError(`SurrealDB answered POST /sql with an unexpected body: ${scrub(oneLine(body, 200), target.pass)}`, {
      hint: "is the image a SurrealDB server?",
    });
  }
  return parsed as SqlResult[];
}

/** The first statement that failed, with its 1-based index. */
export function firstError(results: readonly SqlResult[]): { index: number; message: string } | undefined {
  const i = results.findIndex((r) => r.status !== "OK");
  if (i < 0) return undefined;
  const r = results[i] as SqlResult;
  return { index: i + 1, message: typeof r.result === "string" ? r.result : JSON.stringify(r.result) };
}

interface SurrealData {
  url: string;
}

export function surrealOutputs(container: RunningContainer, config: SurrealDbConfig, service: string): Outputs {
  const port = container.mappedPort(SURREAL_PORT);
  return {
    url: `http://${container.host}:${port}`,
    host: container.host,
    port,
    ns: config.namespace,
    db: config.database,
    user: config.user,
    internal_url: `http://${service}:${SURREAL_PORT}`,
  };
}

export default definePlugin({
  type: "surrealdb",
  description: "SurrealDB (surrealdb/surrealdb): root auth, namespace/database setup, strict mode and SurrealQL init scripts",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => ["url", "host", "port", "ns", "db", "user", "internal_url"],
  secretFields: ["auth.pass", "pass"],
  create(config, { baseDir: createBaseDir }) {
    const spec = toContainerSpec(config);
    return {
      async start(ctx) {
        const baseDir = ctx.baseDir || createBaseDir;
        // Read the init scripts first: a missing file fails before any container exists.
        const scripts: { name: string; sql: string }[] = [];
        for (const file of config.init_scripts) {
          const path = isAbsolute(file) ? file : resolve(baseDir, file);
          try {
            scripts.push({ name: file, sql: await readFile(path, "utf8") });
          } catch (err) {
            throw new ValidationError(`service '${ctx.service}': cannot read init script '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
              service: ctx.service,
              hint: `init_scripts paths are relative to the test file's directory (${baseDir})`,
            });
          }
        }
        if (config.init?.trim()) scripts.push({ name: "init", sql: config.init });

        const container = await ctx.backend.run(spec, runOptions(ctx));
        const outputs = surrealOutputs(container, config, ctx.service);
        const url = String(outputs.url);
        const base = { url, user: config.user, pass: config.pass, signal: ctx.signal, timeoutMs: Math.min(30_000, ctx.startupTimeoutMs) };
        const fail = (message: string, hint: string) => new HealthError(`service '${ctx.service}': ${scrub(message, config.pass)}`, { service: ctx.service, hint });

        const ns = config.namespace;
        const db = config.database;
        ctx.log.progress(`defining namespace ${ns} and database ${db}`);
        const setup = await surrealQuery(base, `DEFINE NAMESPACE IF NOT EXISTS ${ns}; USE NS ${ns}; DEFINE DATABASE IF NOT EXISTS ${db};`).catch((e) => {
          throw fail(e.message, e.hint ?? "check the SurrealDB logs");
        });
        const setupErr = firstError(setup);
        if (setupErr) throw fail(`defining namespace '${ns}' and database '${db}' failed: ${oneLine(setupErr.message)}`, "check the SurrealDB logs");

        const scoped = { ...base, ns, db };
        const check = await surrealQuery(scoped, "INFO FOR DB;").catch((e) => {
          throw fail(`connection check failed: ${e.message}`, e.hint ?? "check the SurrealDB logs");
        });
        const checkErr = firstError(check);
        if (check.length !== 1 || checkErr) {
          throw fail(`connection check 'INFO FOR DB' failed: ${checkErr ? oneLine(checkErr.message) : `expected 1 result, got ${check.length}`}`, "check the SurrealDB logs");
        }

        for (const script of scripts) {
          ctx.log.progress(`running init script ${script.name}`);
          const results = await surrealQuery(scoped, script.sql).catch((e) => {
            throw fail(`init script '${script.name}' failed: ${e.message.replace(/ to POST \/sql/, "")}`, `fix the SurrealQL in '${script.name}'`);
          });
          const err = firstError(results);
          if (err) throw fail(`init script '${script.name}' failed at statement ${err.index}: ${oneLine(err.message)}`, `fix the SurrealQL in '${script.name}'`);
        }

        const data: SurrealData = { url };
        return { service: ctx.service, primary: container, containers: [container], outputs, data };
      },
      async healthCheck(handle) {
        const c = handle.primary;
        const data = handle.data;
        if (!c || !data) return HealthStatus.unknown("no container");
        try {
          const res = await fetch(`${data.url}/health`, { signal: AbortSignal.timeout(5_000) });
          await res.body?.cancel();
          if (res.status === 200) return HealthStatus.healthy();
          return HealthStatus.unhealthy(`GET /health answered HTTP ${res.status}`);
        } catch (err) {
          const state = await c.state().catch(() => undefined);
          if (state && !state.running) return HealthStatus.unhealthy(`container exited with code ${state.exitCode ?? "?"}`);
          return HealthStatus.unhealthy(`GET /health failed: ${scrub(oneLine(err instanceof Error ? err.message : String(err)), config.pass)}`);
        }
      },
    };
  },
});

