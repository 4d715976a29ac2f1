import {
  type ContainerSpec,
  definePlugin,
  HealthError,
  HealthStatus,
  type Outputs,
  type RunningContainer,
  runOptions,
} from "@clnrm/plugin-api";
import { deadlineFor, envSchema, fixedHostPortSchema, http, waitUntilReady, withTail, z } from "@clnrm/plugin-kit";

/** The real upstream image with the management plugin, pinned to 3.10. */
export const DEFAULT_IMAGE = "rabbitmq:3.10-management";
/** AMQP 0-9-1 inside the container. */
export const AMQP_PORT = 5672;
/** The management HTTP API inside the container. */
export const MANAGEMENT_PORT = 15672;
/** The node's data directory: a tmpfs, so nothing outlives the container. */
export const DATA_DIR = "/var/lib/rabbitmq";
/** Env names the plugin sets from its own keys. */
const OWN_ENV = ["RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"] as const;
/** Exchanges every vhost has: bindings may name them without declaring them. */
export const PREDECLARED_EXCHANGES = ["amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"] as const;

/** A RabbitMQ short string: exchange, queue and routing-key names are at most 255 bytes. */
const nameSchema = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .refine((s) => Buffer.byteLength(s) <= 255, `${what} must be at most 255 bytes (AMQP's short string)`);

const argumentsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});
const exchangeType = z.enum(["direct", "fanout", "topic", "headers"], { error: "exchange type must be one of direct, fanout, topic, headers" });

export const exchangeSchema = z.strictObject({
  name: nameSchema("exchange name").refine((s) => !s.startsWith("amq."), "exchange names starting with 'amq.' are reserved by RabbitMQ"),
  type: exchangeType.default("direct"),
  durable: z.boolean().default(true),
  auto_delete: z.boolean().default(false),
  internal: z.boolean().default(false),
  arguments: argumentsSchema,
});

export const queueSchema = z.strictObject({
  name: nameSchema("queue name").refine((s) => !s.startsWith("amq."), "queue names starting with 'amq.' are reserved by RabbitMQ"),
  durable: z.boolean().default(true),
  auto_delete: z.boolean().default(false),
  /** `x-queue-type` etc. go here: `{ "x-queue-type" = "quorum" }`, `{ "x-message-ttl" = 60000 }`. */
  arguments: argumentsSchema,
});

export const bindingSchema = z.strictObject({
  exchange: nameSchema("binding exchange"),
  queue: nameSchema("binding queue"),
  routing_key: z.string().refine((s) => Buffer.byteLength(s) <= 255, "routing_key must be at most 255 bytes").default(""),
  arguments: argumentsSchema,
});

export type Exchange = z.output<typeof exchangeSchema>;
export type Queue = z.output<typeof queueSchema>;
export type Binding = z.output<typeof bindingSchema>;

/**
 * The service table. `queue_name`, `exchange_type`, `routing_key` (and `exchange`) are the one
 * exchange + queue + binding shorthand; `exchanges`, `queues` and `bindings` declare more. The
 * parsed config has the shorthand merged into the three lists.
 */
export const configSchema = z
  .strictObject({
    image: z.string().trim().min(1, "image must not be empty").default(DEFAULT_IMAGE).describe("The image; it must include the management plugin. Default: the real upstream image, pinned."),
    username: z.string().min(1, "username must not be empty").default("guest").describe("The user created at start (RABBITMQ_DEFAULT_USER), an administrator."),
    password: z.string().min(1, "password must not be empty").default("guest").describe("The user's password (RABBITMQ_DEFAULT_PASS). Secret."),
    vhost: z.string().min(1, "vhost must not be empty").default("/").describe("The virtual host created at start (RABBITMQ_DEFAULT_VHOST); everything is declared in it."),
    queue_name: nameSchema("queue_name").optional().describe("Shorthand: one queue, bound to one exchange."),
    exchange: nameSchema("exchange").optional().describe("Shorthand: the exchange's name. Default: the queue_name."),
    exchange_type: exchangeType.optional().describe("Shorthand: the exchange's type. Default: direct."),
    routing_key: z.string().optional().describe("Shorthand: the binding's routing key. Default: the queue_name."),
    exchanges: z.array(exchangeSchema).default([]),
    queues: z.array(queueSchema).default([]),
    bindings: z.array(bindingSchema).default([]),
    port: fixedHostPortSchema(AMQP_PORT, "RabbitMQ").optional().describe("Fixed host port for AMQP; a random free port otherwise."),
    management_port: fixedHostPortSchema(MANAGEMENT_PORT, "RabbitMQ").optional().describe("Fixed host port for the management API; a random free port otherwise."),
    env: envSchema
      .default({})
      .refine((e) => !OWN_ENV.some((k) => k in e), "set RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS and RABBITMQ_DEFAULT_VHOST with `username`, `password` and `vhost`, not in env")
      .describe("Extra environment variables."),
  })
  .transform((c, ctx) => {
    const { queue_name, exchange, exchange_type, routing_key, ...rest } = c;
    const exchanges = [...rest.exchanges];
    const queues = [...rest.queues];
    const bindings = [...rest.bindings];
    if (queue_name === undefined) {
      for (const [key, v] of [["exchange", exchange], ["exchange_type", exchange_type], ["routing_key", routing_key]] as const) {
        if (v !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `'${key}' belongs to the shorthand: set 'queue_name' too, or use the exchanges/queues/bindings tables` });
      }
    } else {
      const name = exchange ?? queue_name;
      if (name.startsWith("amq.")) ctx.addIssue({ code: "custom", path: ["exchange"], message: "exchange names starting with 'amq.' are reserved by RabbitMQ" });
      exchanges.unshift({ name, type: exchange_type ?? "direct", durable: true, auto_delete: false, internal: false, arguments: {} });
      queues.unshift({ name: queue_name, durable: true, auto_delete: false, arguments: {} });
      bindings.unshift({ exchange: name, queue: queue_name, routing_key: routing_key ?? queue_name, arguments: {} });
    }
    const dup = (names: string[]) => names.find((n, i) => names.indexOf(n) !== i);
    const de = dup(exchanges.map((e) => e.name));
    if (de !== undefined) ctx.addIssue({ code: "custom", path: ["exchanges"], message: `exchange '${de}' is declared twice` });
    const dq = dup(queues.map((q) => q.name));
    if (dq !== undefined) ctx.addIssue({ code: "custom", path: ["queues"], message: `queue '${dq}' is declared twice` });
    const known = new Set<string>([...PREDECLARED_EXCHANGES, ...exchanges.map((e) => e.name)]);
    const qs = new Set(queues.map((q) => q.name));
    const offset = queue_name === undefined ? 0 : 1;
    bindings.forEach((b, i) => {
      const path = ["bindings", i - offset];
      if (!known.has(b.exchange)) ctx.addIssue({ code: "custom", path: [...path, "exchange"], message: `binding names exchange '${b.exchange}', which is not declared: add it to 'exchanges'` });
      if (!qs.has(b.queue)) ctx.addIssue({ code: "custom", path: [...path, "queue"], message: `binding names queue '${b.queue}', which is not declared: add it to 'queues'` });
    });
    return { ...rest, exchanges, queues, bindings };
  });

export type RabbitmqConfig = z.output<typeof configSchema>;

/** The ContainerSpec this plugin runs for a config: plain data, asserted by the unit tests. */
export function toContainerSpec(config: RabbitmqConfig): ContainerSpec {
  const port = (container: number, host: number | undefined) => (host === undefined ? { container } : { container, host });
  return {
    image: config.image,
    env: { ...config.env, RABBITMQ_DEFAULT_USER: config.username, RABBITMQ_DEFAULT_PASS: config.password, RABBITMQ_DEFAULT_VHOST: config.vhost },
    secretEnv: ["RABBITMQ_DEFAULT_PASS"],
    ports: [port(AMQP_PORT, config.port), port(MANAGEMENT_PORT, config.management_port)],
    mounts: [{ type: "tmpfs", target: DATA_DIR }],
  };
}

/** `amqp://user:pass@host:port/vhost`, each part percent-encoded (the default vhost `/` is `%2F`). */
export function amqpUrl(config: RabbitmqConfig, host: string, port: number): string {
  const e = encodeURIComponent;
  return `amqp://${e(config.username)}:${e(config.password)}@${host}:${port}/${e(config.vhost)}`;
}

export const OUTPUTS = ["url", "internal_url", "management_url", "internal_management_url", "host", "port", "management_port", "vhost", "username"] as const;

export function rabbitmqOutputs(container: RunningContainer, config: RabbitmqConfig, service: string): Outputs {
  const port = container.mappedPort(AMQP_PORT);
  const management = container.mappedPort(MANAGEMENT_PORT);
  return {
    url: amqpUrl(config, container.host, port),
    internal_url: amqpUrl(config, service, AMQP_PORT),
    management_url: `http://${container.host}:${management}`,
    internal_management_url: `http://${service}:${MANAGEMENT_PORT}`,
    host: container.host,
    port,
    management_port: management,
    vhost: config.vhost,
    username: config.username,
  };
}

/** Replaces every occurrence of the secret in a text. */
export function scrub(text: string, secret: string): string {
  return secret ? text.split(secret).join("***") : text;
}

/** A client of the management HTTP API as the configured user. */
export class Management {
  readonly #auth: string;
  constructor(
    readonly origin: string,
    username: string,
    password: string,
  ) {
    this.#auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }

  /** One request; the JSON body (or undefined), or an Error whose message has the status and RabbitMQ's reason. */
  async request(method: string, path: string, body?: unknown, timeoutMs = 5_000): Promise<unknown> {
    const r = await http(`${this.origin}${path}`, {
      method,
      timeoutMs,
      headers: { authorization: this.#auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!r.ok) {
      const reason = (json as { reason?: unknown } | undefined)?.reason;
      throw new Error(`${method} ${path} answered ${r.status}${reason ? `: ${typeof reason === "string" ? reason : JSON.stringify(reason)}` : ""}`);
    }
    return json;
  }

  /**
   * Ready: the vhost exists and runs, no resource alarm is in effect, and the AMQP listener is up.
   * Read-only checks (the aliveness test would leave a queue behind in the vhost). True, or why not.
   */
  async ready(vhost: string): Promise<true | string> {
    const v = (await this.request("GET", `/api/vhosts/${encodeURIComponent(vhost)}`)) as { name?: string } | undefined;
    if (v?.name !== vhost) return `vhost '${vhost}' not there yet`;
    for (const check of ["virtual-hosts", "local-alarms", `port-listener/${AMQP_PORT}`]) {
      const r = (await this.request("GET", `/api/health/checks/${check}`)) as { status?: string } | undefined;
      if (r?.status !== "ok") return `health check ${check}: ${JSON.stringify(r)}`;
    }
    return true;
  }

  /** Declares the exchanges, then the queues, then the bindings (idempotent: a re-declaration with other settings fails). */
  async declare(config: RabbitmqConfig): Promise<void> {
    const v = encodeURIComponent(config.vhost);
    const e = encodeURIComponent;
    for (const x of config.exchanges) {
      await this.request("PUT", `/api/exchanges/${v}/${e(x.name)}`, { type: x.type, durable: x.durable, auto_delete: x.auto_delete, internal: x.internal, arguments: x.arguments });
    }
    for (const q of config.queues) {
      await this.request("PUT", `/api/queues/${v}/${e(q.name)}`, { durable: q.durable, auto_delete: q.auto_delete, arguments: q.arguments });
    }
    for (const b of config.bindings) {
      await this.request("POST", `/api/bindings/${v}/e/${e(b.exchange)}/q/${e(b.queue)}`, { routing_key: b.routing_key, arguments: b.arguments });
    }
  }
}

export interface RabbitmqData {
  management: Management;
}

export default definePlugin<typeof configSchema, RabbitmqData>({
  type: "rabbitmq",
  description: "RabbitMQ (the upstream rabbitmq:3.10-management image): vhost, user and password, exchanges, queues and bindings declared at start, management-API health, AMQP URLs",
  configSchema,
  /** What `${services.NAME.KEY}` may name: `validate` refuses any other KEY. */
  outputs: () => OUTPUTS,
  secretFields: ["password"],
  defaults: { startupTimeoutMs: 90_000 },
  create(config) {
    const spec = toContainerSpec(config);
    return {
      async start(ctx) {
        const startedAt = Date.now();
        const container = await ctx.backend.run(spec, runOptions(ctx));
        const management = new Management(`http://${container.host}:${container.mappedPort(MANAGEMENT_PORT)}`, config.username, config.password);
        try {
          await waitUntilReady({
            ctx,
            container,
            deadline: deadlineFor(ctx, startedAt),
            what: "RabbitMQ to accept connections",
            check: async () => {
              const r = await management.ready(config.vhost);
              return r === true ? r : scrub(r, config.password);
            },
            timeoutHint: "RabbitMQ takes 10-20 s to boot; raise the service's startup_timeout, and use an image with the management plugin (a -management tag)",
          });
          ctx.log.progress(`declaring ${config.exchanges.length} exchange(s), ${config.queues.length} queue(s), ${config.bindings.length} binding(s)`);
          await management.declare(config).catch((err: Error) => {
            throw new HealthError(`service '${ctx.service}': declaring the topology failed: ${scrub(err.message, config.password)}`, {
              service: ctx.service,
              hint: "check the exchanges, queues and bindings in the service's table",
            });
          });
        } catch (err) {
          await container.remove().catch(() => {});
          throw err;
        }
        return { service: ctx.service, primary: container, containers: [container], outputs: rabbitmqOutputs(container, config, ctx.service), data: { management } };
      },
      async healthCheck(handle) {
        const c = handle.primary;
        if (!c || !handle.data) return HealthStatus.unknown("no container");
        const state = await c.state().catch(() => undefined);
        if (state && !state.running) return HealthStatus.unhealthy(`container exited with code ${state.exitCode ?? "?"}${await withTail(c)}`);
        const r = await handle.data.management.ready(config.vhost).catch((e: Error) => e.message);
        return r === true ? HealthStatus.healthy() : HealthStatus.unhealthy(scrub(r, config.password));
      },
    };
  },
});
