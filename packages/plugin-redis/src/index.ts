import { type ContainerSpec, definePlugin, HealthError, HealthStatus, type Outputs, type RunningContainer, runOptions } from "@clnrm/plugin-api";
import { deadlineFor, fixedHostPortSchema, waitUntilReady, z } from "@clnrm/plugin-kit";
import { type RespConnectOptions, RespConnection, RespError, respCommand } from "./resp.js";

export { encodeCommand, parseReply, type RespConnectOptions, RespConnection, RespError, type RespValue, respCommand } from "./resp.js";

/** The real upstream image, pinned. */
export const DEFAULT_IMAGE = "redis:7.0";
/** The port Redis listens on inside the container. */
export const REDIS_PORT = 6379;
/**
 * Env carrying the password into the container: the start command reads it (so it is never on a
 * command line docker shows), and redis-cli run in the container authenticates with it.
 */
export const AUTH_ENV = "REDISCLI_AUTH";

/** RFC 3986 unreserved and sub-delims: the password sits as is in the `url` outputs (and is redacted there). */
const PASSWORD_RE = /^[A-Za-z0-9._~!$&'()*+,;=-]+$/;

/** One init command: `["SET", "k", "v"]` (numbers become strings) or `"SET k v"` (split on spaces). */
const commandSchema = z
  .union([z.string(), z.array(z.union([z.string(), z.number()]))], { error: 'a command is an array of words, ["SET", "k", "v"], or a string "SET k v"' })
  .transform((v, ctx) => {
    if (typeof v === "string" && /["'\\]/.test(v)) {
      ctx.addIssue({ code: "custom", message: 'a command string is split on spaces only: write one with quoted arguments as an array, ["SET", "k", "a b"]' });
      return z.NEVER;
    }
    const args = typeof v === "string" ? v.trim().split(/\s+/).filter(Boolean) : v.map(String);
    if (args.length === 0 || args[0]?.trim() === "") {
      ctx.addIssue({ code: "custom", message: "a command must not be empty: name a Redis command first" });
      return z.NEVER;
    }
    return args;
  });

export const configSchema = z.strictObject({
  image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The image; the default is the real upstream image, pinned."),
  password: z
    .string()
    .min(1, "password must not be empty")
    .regex(PASSWORD_RE, "password may use letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = (it appears in the url output)")
    .optional()
    .describe("Secret. `requirepass`: clients must AUTH with it. Without it, Redis accepts any client."),
  databases: z
    .number()
    .int("databases must be a whole number")
    .min(1, "databases must be at least 1 (Redis' default is 16)")
    .max(10_000, "databases must be at most 10000")
    .optional().describe("Number of logical databases (`--databases`); Redis' default is 16."),
  append_only: z.boolean().default(false).describe("`--appendonly yes`: persist every write to the append-only file in /data."),
  init: z.array(commandSchema).default([]).describe('Commands run in order at start, on one connection to database 0: ["SET", "k", "v"] or "SET k v".'),
  port: fixedHostPortSchema(REDIS_PORT, "Redis").optional().describe('Fixed host port (16379 or "16379:6379"); a random free port otherwise.'),
});

export type RedisConfig = z.output<typeof configSchema>;

/** The redis-server options for a config (after `redis-server`). */
export function serverArgs(config: RedisConfig): string[] {
  const args: string[] = [];
  if (config.databases !== undefined) args.push("--databases", String(config.databases));
  if (config.append_only) args.push("--appendonly", "yes");
  return args;
}

/** The ContainerSpec this plugin runs for a config: plain data, asserted by the unit tests. */
export function toContainerSpec(config: RedisConfig): ContainerSpec {
  const args = serverArgs(config);
  // With a password, a shell expands it from the env into `--requirepass` and execs the image's own
  // entrypoint (which drops to the redis user); Redis then replaces its process title, so the
  // password is on no command line that docker or ps shows.
  const command =
    config.password === undefined
      ? ["redis-server", ...args]
      : ["sh", "-c", `exec docker-entrypoint.sh redis-server --requirepass "$${AUTH_ENV}" "$@"`, "redis-server", ...args];
  return {
    image: config.image,
    command,
    env: config.password === undefined ? {} : { [AUTH_ENV]: config.password },
    secretEnv: [AUTH_ENV],
    ports: [config.port === undefined ? { container: REDIS_PORT } : { container: REDIS_PORT, host: config.port }],
  };
}

/**
 * `redis://[default:password@]host:port/0`. The user is Redis' own `default` (what `requirepass`
 * sets): with an empty user (`redis://:pw@`) redis-cli 7.0 sends `AUTH "" pw`, which is refused.
 */
export function redisUrl(host: string, port: number, password: string | undefined): string {
  return `redis://${password === undefined ? "" : `default:${password}@`}${host}:${port}/0`;
}

export function redisOutputs(container: RunningContainer, config: RedisConfig, service: string): Outputs {
  const port = container.mappedPort(REDIS_PORT);
  return {
    url: redisUrl(container.host, port, config.password),
    internal_url: redisUrl(service, REDIS_PORT, config.password),
    host: container.host,
    port,
  };
}

/** Replaces every occurrence of the secret in a text. */
export function scrub(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join("***") : text;
}

/** How an init command is shown in errors: its words, quoted when they hold spaces, without the password. */
export function showCommand(args: readonly string[], secret?: string): string {
  return scrub(args.map((a) => (/^[^\s"]+$/.test(a) ? a : JSON.stringify(a))).join(" "), secret);
}

/** True when Redis answers PING with PONG; a reason otherwise. An auth refusal throws (waiting won't fix it). */
export async function ping(target: RespConnectOptions): Promise<true | string> {
  try {
    const reply = await respCommand({ timeoutMs: 2_000, ...target }, ["PING"]);
    return reply === "PONG" ? true : `PING answered ${JSON.stringify(reply)}`;
  } catch (err) {
    const message = scrub(err instanceof Error ? err.message : String(err), target.password);
    if (err instanceof RespError && /^(WRONGPASS|NOAUTH|ERR AUTH|ERR invalid password)/.test(err.message)) throw new RespError(message);
    return `PING failed: ${message}`;
  }
}

interface RedisData {
  target: RespConnectOptions;
}

export default definePlugin({
  type: "redis",
  description: "Redis (redis): password, databases, append-only persistence and init commands",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => ["url", "internal_url", "host", "port"],
  secretFields: ["password"],
  create(config) {
    const spec = toContainerSpec(config);
    return {
      async start(ctx) {
        const container = await ctx.backend.run(spec, runOptions(ctx));
        const outputs = redisOutputs(container, config, ctx.service);
        const target: RespConnectOptions = { host: container.host, port: container.mappedPort(REDIS_PORT), ...(config.password === undefined ? {} : { password: config.password }) };
        const fail = (message: string, hint: string) => new HealthError(`service '${ctx.service}': ${scrub(message, config.password)}`, { service: ctx.service, hint });

        let refused: string | undefined;
        await waitUntilReady({
          ctx,
          container,
          deadline: deadlineFor(ctx),
          what: "redis to answer PING",
          check: () =>
            ping(target).catch((err: Error) => {
              refused = err.message;
              return true as const;
            }),
        });
        if (refused) throw fail(`redis refused the password: ${refused}`, "check the service's `password`, and that the image passes `--requirepass` to redis-server as the upstream image does");

        if (config.init.length) {
          ctx.log.progress(`running ${config.init.length} init command${config.init.length === 1 ? "" : "s"}`);
          const conn = await RespConnection.open({ ...target, timeoutMs: 30_000 }).catch((err: Error) => {
            throw fail(`cannot connect to run the init commands: ${err.message}`, "check the container log");
          });
          try {
            for (const [i, args] of config.init.entries()) {
              await conn.command(args).catch((err: Error) => {
                throw fail(`init command ${i + 1} \`${showCommand(args)}\` failed: ${err.message}`, `fix init[${i}]; the commands run in order on one connection, in database 0 unless a SELECT changes it`);
              });
            }
          } finally {
            conn.close();
          }
        }

        const data: RedisData = { target };
        return { service: ctx.service, primary: container, containers: [container], outputs, data };
      },
      async healthCheck(handle) {
        const c = handle.primary;
        const target = handle.data?.target;
        if (!c || !target) return HealthStatus.unknown("no container");
        const r = await ping(target).catch((err: Error) => `PING refused: ${err.message}`);
        if (r === true) return HealthStatus.healthy();
        const state = await c.state().catch(() => undefined);
        if (state && !state.running) return HealthStatus.unhealthy(`container exited with code ${state.exitCode ?? "?"}`);
        return HealthStatus.unhealthy(r);
      },
    };
  },
});
