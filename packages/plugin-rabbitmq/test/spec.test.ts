import { fakeContainer } from "@clnrm/plugin-kit/testing";
import { describe, expect, it } from "vitest";
import plugin, { amqpUrl, configSchema, DEFAULT_IMAGE, rabbitmqOutputs, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);
const issues = (c: unknown) => configSchema.safeParse(c).error?.issues.map((i) => [i.path.join("."), i.message]);

describe("rabbitmq ContainerSpec", () => {
  it("defaults: the pinned upstream management image, RABBITMQ_DEFAULT_* env with the password secret, random 5672 and 15672, tmpfs data dir, no probe (start waits on the management API)", () => {
    expect(DEFAULT_IMAGE).toBe("rabbitmq:3.10-management");
    expect(toContainerSpec(parse({}))).toEqual({
      image: "rabbitmq:3.10-management",
      env: { RABBITMQ_DEFAULT_USER: "guest", RABBITMQ_DEFAULT_PASS: "guest", RABBITMQ_DEFAULT_VHOST: "/" },
      secretEnv: ["RABBITMQ_DEFAULT_PASS"],
      ports: [{ container: 5672 }, { container: 15672 }],
      mounts: [{ type: "tmpfs", target: "/var/lib/rabbitmq" }],
    });
  });

  it("credentials, vhost, fixed ports and extra env; the password is only in the env", () => {
    const spec = toContainerSpec(parse({ username: "app", password: "hunter2-s3cret", vhost: "shop", port: "15673:5672", management_port: 25672, env: { TZ: "UTC", N: 1 } }));
    expect(spec.env).toEqual({ TZ: "UTC", N: "1", RABBITMQ_DEFAULT_USER: "app", RABBITMQ_DEFAULT_PASS: "hunter2-s3cret", RABBITMQ_DEFAULT_VHOST: "shop" });
    expect(spec.ports).toEqual([
      { container: 5672, host: 15673 },
      { container: 15672, host: 25672 },
    ]);
    expect(JSON.stringify({ ...spec, env: undefined })).not.toContain("hunter2-s3cret");
  });

  it("declares the password secret, the outputs, the type and a start timeout for a slow boot", () => {
    expect(plugin.type).toBe("rabbitmq");
    expect(plugin.secretFields).toEqual(["password"]);
    expect(plugin.outputs?.(parse({}))).toEqual(["url", "internal_url", "management_url", "internal_management_url", "host", "port", "management_port", "vhost", "username"]);
    expect(plugin.defaults?.startupTimeoutMs).toBe(90_000);
  });
});

describe("rabbitmq config", () => {
  it("the shorthand is one exchange (named after the queue, direct), one durable queue, one binding keyed by the queue name", () => {
    const c = parse({ queue_name: "orders" });
    expect(c.exchanges).toEqual([{ name: "orders", type: "direct", durable: true, auto_delete: false, internal: false, arguments: {} }]);
    expect(c.queues).toEqual([{ name: "orders", durable: true, auto_delete: false, arguments: {} }]);
    expect(c.bindings).toEqual([{ exchange: "orders", queue: "orders", routing_key: "orders", arguments: {} }]);
    expect(c).not.toHaveProperty("queue_name");
    const t = parse({ queue_name: "q", exchange: "events", exchange_type: "topic", routing_key: "order.*" });
    expect(t.exchanges[0]).toMatchObject({ name: "events", type: "topic" });
    expect(t.bindings).toEqual([{ exchange: "events", queue: "q", routing_key: "order.*", arguments: {} }]);
  });

  it("tables: the shorthand first, then the tables; bindings may name amq.* exchanges; arguments pass through", () => {
    const c = parse({
      queue_name: "a",
      exchanges: [{ name: "fan", type: "fanout", durable: false }],
      queues: [{ name: "b", arguments: { "x-message-ttl": 60000, "x-queue-type": "classic" } }, { name: "c", auto_delete: true }],
      bindings: [
        { exchange: "fan", queue: "b" },
        { exchange: "amq.topic", queue: "c", routing_key: "#" },
      ],
    });
    expect(c.exchanges.map((e) => [e.name, e.type, e.durable])).toEqual([
      ["a", "direct", true],
      ["fan", "fanout", false],
    ]);
    expect(c.queues.map((q) => q.name)).toEqual(["a", "b", "c"]);
    expect(c.queues[1]?.arguments).toEqual({ "x-message-ttl": 60000, "x-queue-type": "classic" });
    expect(c.bindings.map((b) => [b.exchange, b.queue, b.routing_key])).toEqual([
      ["a", "a", "a"],
      ["fan", "b", ""],
      ["amq.topic", "c", "#"],
    ]);
  });

  it("refuses what RabbitMQ would refuse or what would silently do nothing, with the key and what to do", () => {
    expect(issues({ routing_key: "x" })).toEqual([["routing_key", "'routing_key' belongs to the shorthand: set 'queue_name' too, or use the exchanges/queues/bindings tables"]]);
    expect(issues({ queues: [{ name: "q" }], bindings: [{ exchange: "nope", queue: "q" }] })).toEqual([["bindings.0.exchange", "binding names exchange 'nope', which is not declared: add it to 'exchanges'"]]);
    expect(issues({ queue_name: "a", bindings: [{ exchange: "a", queue: "zz" }] })).toEqual([["bindings.0.queue", "binding names queue 'zz', which is not declared: add it to 'queues'"]]);
    expect(issues({ queue_name: "a", queues: [{ name: "a" }] })).toEqual([["queues", "queue 'a' is declared twice"]]);
    expect(issues({ exchanges: [{ name: "amq.mine" }] })).toEqual([["exchanges.0.name", "exchange names starting with 'amq.' are reserved by RabbitMQ"]]);
    expect(issues({ queue_name: "q", exchange_type: "x-delayed" })?.[0]).toEqual(["exchange_type", "exchange type must be one of direct, fanout, topic, headers"]);
    for (const bad of [
      { image: "" },
      { username: "" },
      { password: "" },
      { vhost: "" },
      { queue_name: "x".repeat(256) },
      { port: "15672:5673" },
      { management_port: 70000 },
      { env: { RABBITMQ_DEFAULT_PASS: "x" } },
      { queues: [{ name: "q", bogus: 1 }] },
      { user: "x" },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("rabbitmq outputs", () => {
  it("amqp urls with the vhost percent-encoded ('/' is %2F), management urls, host and ports", () => {
    const c = parse({ username: "u@x", password: "p:w/d", vhost: "/" });
    expect(amqpUrl(c, "localhost", 5672)).toBe("amqp://u%40x:p%3Aw%2Fd@localhost:5672/%2F");
    const container = { ...fakeContainer(), host: "127.0.0.1", mappedPort: (p: number) => (p === 5672 ? 32001 : 32002) };
    expect(rabbitmqOutputs(container, parse({ vhost: "shop" }), "mq")).toEqual({
      url: "amqp://guest:guest@127.0.0.1:32001/shop",
      internal_url: "amqp://guest:guest@mq:5672/shop",
      management_url: "http://127.0.0.1:32002",
      internal_management_url: "http://mq:15672",
      host: "127.0.0.1",
      port: 32001,
      management_port: 32002,
      vhost: "shop",
      username: "guest",
    });
  });
});
