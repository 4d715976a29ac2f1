import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, resolve } from "node:path";
import {
  type ConfigIssue,
  type ContainerSpec,
  definePlugin,
  HealthError,
  HealthStatus,
  type Outputs,
  type RunningContainer,
  runOptions,
  ValidationError,
} from "@clnrm/plugin-api";
import { envSchema, fixedHostPortSchema, withTail, z } from "@clnrm/plugin-kit";

/** The real upstream image, pinned to its major version. */
export const DEFAULT_IMAGE = "postgres:15";
/** The port PostgreSQL listens on inside the container. */
export const PG_PORT = 5432;
/** PGDATA of the upstream image: a tmpfs, so nothing outlives the container and initdb is fast. */
export const PGDATA = "/var/lib/postgresql/data";
/** Where init scripts are copied to inside the container before psql runs them. */
export const INIT_DIR = "/tmp/clnrm-init";
/** Env names the plugin sets from its own keys. */
const OWN_ENV = ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"] as const;

/**
 * `SELECT 1` over TCP on 127.0.0.1 as the configured user: a real query with the real credentials.
 * TCP (not the Unix socket) so the upstream entrypoint's socket-only init server never counts as
 * ready. The password is read from the container's env, so it is on no command line.
 */
export const READY_COMMAND = [
  "sh",
  "-c",
  `PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ${PG_PORT} -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc 'SELECT 1'`,
];

/** A role or database name: PostgreSQL truncates names at 63 bytes, so longer ones are refused. */
const nameSchema = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .refine((s) => Buffer.byteLength(s) <= 63, `${what} must be at most 63 bytes (PostgreSQL's name limit)`)
    .refine((s) => !s.includes("\0"), `${what} must not contain NUL`);

/**
 * The service table. `database_name` (the spec's spelling) and `database` are the same key; the
 * parsed config has `database`.
 */
export const configSchema = z
  .strictObject({
    image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The image; the default is the real upstream image, pinned."),
    database_name: nameSchema("database_name").optional().describe("The database created at start (POSTGRES_DB). Default: the username."),
    database: nameSchema("database").optional().describe("Same as `database_name`."),
    username: nameSchema("username").default("postgres").describe("The superuser created at start (POSTGRES_USER)."),
    password: z.string().min(1, "password must not be empty").default("postgres").describe("The superuser's password (POSTGRES_PASSWORD). Secret."),
    init_scripts: z.array(z.string().trim().min(1, "an init script path must not be empty")).default([]).describe("SQL files, relative to the test file, run in order by psql once the server is ready."),
    port: fixedHostPortSchema(PG_PORT, "PostgreSQL").optional().describe("Fixed host port (15432 or \"15432:5432\"); a random free port otherwise."),
    env: envSchema
      .default({})
      .refine((e) => !OWN_ENV.some((k) => k in e), "set POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB with `username`, `password` and `database_name`, not in env")
      .describe("Extra environment variables (POSTGRES_INITDB_ARGS, TZ, ...)."),
  })
  .transform((c, ctx) => {
    const { database_name, database, ...rest } = c;
    if (database_name !== undefined && database !== undefined) {
      ctx.addIssue({ code: "custom", path: ["database"], message: "'database' and 'database_name' are the same setting: keep one" });
    }
    return { ...rest, database: database_name ?? database ?? rest.username };
  });

export type PostgresConfig = z.output<typeof configSchema>;

/** The ContainerSpec this plugin runs for a config: plain data, asserted by the unit tests. */
export function toContainerSpec(config: PostgresConfig): ContainerSpec {
  return {
    image: config.image,
    env: { ...config.env, POSTGRES_USER: config.username, POSTGRES_PASSWORD: config.password, POSTGRES_DB: config.database },
    secretEnv: ["POSTGRES_PASSWORD"],
    ports: [config.port === undefined ? { container: PG_PORT } : { container: PG_PORT, host: config.port }],
    mounts: [{ type: "tmpfs", target: PGDATA }],
    health: { kind: "exec", command: READY_COMMAND },
  };
}

/** `postgres://user:pass@host:port/db`, each part percent-encoded. */
export function postgresUrl(config: PostgresConfig, host: string, port: number): string {
  const e = encodeURIComponent;
  return `postgres://${e(config.username)}:${e(config.password)}@${host}:${port}/${e(config.database)}`;
}

export const OUTPUTS = ["url", "internal_url", "host", "port", "database", "username"] as const;

export function postgresOutputs(container: RunningContainer, config: PostgresConfig, service: string): Outputs {
  const port = container.mappedPort(PG_PORT);
  return {
    url: postgresUrl(config, container.host, port),
    internal_url: postgresUrl(config, service, PG_PORT),
    host: container.host,
    port,
    database: config.database,
    username: config.username,
  };
}

/** Replaces every occurrence of the secret in a text. */
export function scrub(text: string, secret: string): string {
  return secret ? text.split(secret).join("***") : text;
}

/** An init script as the host knows it and where it sits in the container. */
export interface InitScript {
  /** As written in the config. */
  name: string;
  /** Absolute host path. */
  hostPath: string;
  /** Path inside the container. */
  containerPath: string;
}

export function initScripts(config: PostgresConfig, baseDir: string): InitScript[] {
  return config.init_scripts.map((name, i) => {
    const safe = basename(name).replace(/[^A-Za-z0-9._-]/g, "_");
    return { name, hostPath: isAbsolute(name) ? name : resolve(baseDir, name), containerPath: `${INIT_DIR}/${String(i + 1).padStart(2, "0")}-${safe}` };
  });
}

/**
 * The first error psql reported for a script (`psql:/tmp/clnrm-init/01-x.sql:4: ERROR:  msg`),
 * with the line mapped to the host file: `/abs/x.sql:4: ERROR:  msg`. Undefined if none matches.
 */
export function psqlError(stderr: string, script: InitScript): { line?: number; message: string } | undefined {
  const lines = stderr.split(/\r?\n/);
  const at = `psql:${script.containerPath}:`;
  for (const l of lines) {
    if (!l.startsWith(at)) continue;
    const m = /^(\d+): (.*)$/.exec(l.slice(at.length));
    if (m && /^(ERROR|FATAL|PANIC):/.test(m[2] as string)) return { line: Number(m[1]), message: (m[2] as string).replace(/\s+/g, " ").trim() };
  }
  const first = lines.map((l) => l.trim()).find((l) => /(ERROR|FATAL|error):/.test(l));
  return first ? { message: first.replace(/^psql: /, "").replace(/\s+/g, " ") } : undefined;
}

/** Copies a file into the container through exec (no bind mount, so remote engines work too). */
async function copyIn(container: RunningContainer, content: Buffer, path: string): Promise<void> {
  const run = async (script: string, env: Record<string, string>) => {
    const r = await container.exec(["sh", "-c", script], { env, timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw new Error(`copying an init script into the container failed (exit ${r.exitCode}): ${r.stderr.trim().split("\n")[0] ?? ""}`);
  };
  await run(`mkdir -p ${INIT_DIR} && : > "$F"`, { F: path });
  // 48 KiB of file is 64 KiB of base64: well under Linux's 128 KiB limit for one env string.
  for (let at = 0; at < content.length; at += 48 * 1024) {
    await run('printf %s "$C" | base64 -d >> "$F"', { F: path, C: content.subarray(at, at + 48 * 1024).toString("base64") });
  }
}

export default definePlugin({
  type: "postgres",
  description: "PostgreSQL (the upstream postgres image): database, superuser and password, SQL init scripts run by psql, SELECT 1 health, connection URLs",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => OUTPUTS,
  secretFields: ["password"],
  check(config, { baseDir }) {
    const issues: ConfigIssue[] = [];
    initScripts(config, baseDir).forEach((s, i) => {
      let isFile = false;
      try {
        isFile = statSync(s.hostPath).isFile();
      } catch {
        isFile = false;
      }
      if (!isFile) issues.push({ path: ["init_scripts", i], message: `init script '${s.name}' not found at ${s.hostPath}: paths are relative to the test file's directory` });
    });
    return issues;
  },
  create(config, { baseDir: createBaseDir }) {
    const spec = toContainerSpec(config);
    return {
      async start(ctx) {
        const scripts = initScripts(config, ctx.baseDir || createBaseDir);
        // Read the init scripts first: a missing file fails before any container exists.
        const contents: Buffer[] = [];
        for (const s of scripts) {
          try {
            contents.push(await readFile(s.hostPath));
          } catch (err) {
            throw new ValidationError(`service '${ctx.service}': cannot read init script '${s.name}' (${s.hostPath}): ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
              service: ctx.service,
              hint: "init_scripts paths are relative to the test file's directory",
            });
          }
        }

        const container = await ctx.backend.run(spec, runOptions(ctx));
        const fail = (message: string, hint: string) => new HealthError(`service '${ctx.service}': ${scrub(message, config.password)}`, { service: ctx.service, hint });
        for (const [i, s] of scripts.entries()) {
          ctx.log.progress(`running init script ${s.name}`);
          await copyIn(container, contents[i] as Buffer, s.containerPath).catch((e: Error) => {
            throw fail(`init script '${s.name}': ${e.message}`, "check that the image has sh and base64");
          });
          const r = await container.exec(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(PG_PORT), "-U", config.username, "-d", config.database, "-f", s.containerPath], {
            env: { PGPASSWORD: config.password },
            timeoutMs: Math.max(1_000, ctx.startupTimeoutMs),
          });
          if (r.exitCode !== 0) {
            const err = psqlError(r.stderr, s);
            const where = err?.line !== undefined ? `${s.hostPath}:${err.line}` : s.hostPath;
            throw fail(`init script failed at ${where}: ${err?.message ?? `psql exited with ${r.exitCode}${await withTail(container)}`}`, `fix the SQL in '${s.name}'`);
          }
        }
        return { service: ctx.service, primary: container, containers: [container], outputs: postgresOutputs(container, config, ctx.service) };
      },
      async healthCheck(handle) {
        const c = handle.primary;
        if (!c) return HealthStatus.unknown("no container");
        const r = await c.exec(READY_COMMAND, { timeoutMs: 5_000 }).catch((e: Error) => e);
        if (!(r instanceof Error) && r.exitCode === 0 && r.stdout.trim() === "1") return HealthStatus.healthy();
        const state = await c.state().catch(() => undefined);
        if (state && !state.running) return HealthStatus.unhealthy(`container exited with code ${state.exitCode ?? "?"}`);
        const why = r instanceof Error ? r.message : r.stderr.trim().split("\n")[0] || `psql exited with ${r.exitCode}`;
        return HealthStatus.unhealthy(`SELECT 1 failed: ${scrub(why, config.password)}`);
      },
    };
  },
});
