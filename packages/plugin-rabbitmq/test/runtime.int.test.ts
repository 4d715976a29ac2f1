// Against the local rabbitmq:3.10-management: the test build of the real server (tools/test-images/rabbitmq,
// Debian's rabbitmq-server 3.10 with the management plugin, under the upstream layout and env).
// The AMQP side is checked with amqplib, a real AMQP 0-9-1 client.
import { execFileSync } from "node:child_process";
import { type NetworkHandle, type PluginLogger, ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { newRunId } from "@clnrm/plugin-kit/testing";
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { configSchema, DEFAULT_IMAGE, Management } from "../src/index.js";

const PASS = "Rabb1t-s3cret-pw-4711";
const backend = new DockerBackend();
const runId = newRunId("mq");
const logged: string[] = [];
const log: PluginLogger = { progress: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) };
let network: NetworkHandle;

function leftContainers(): string {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

function lifecycle(service: string, config: Record<string, unknown>) {
  const parsed = configSchema.parse({ password: PASS, ...config });
  return new ServiceLifecycle({ service, pluginType: "rabbitmq", plugin: plugin.create(parsed, { service, baseDir: process.cwd() }), timeouts: { startMs: 120_000, healthMs: 10_000 } });
}

const startCtx = () => ({ runId, backend, network, baseDir: process.cwd(), log, dependencies: {}, services: new Map() });

beforeAll(async () => {
  network = await backend.createNetwork(runId);
});

afterAll(async () => {
  await backend.sweep({ runId });
  await network?.remove();
  expect(leftContainers()).toBe("");
  expect(logged.join("\n")).not.toContain(PASS);
});

describe("rabbitmq plugin on rabbitmq:3.10-management", () => {
  it("declares the topology; a message published through each exchange arrives in the bound queues only; auth; outputs; internal_url from another container", async () => {
    const lc = lifecycle("mq", {
      username: "app",
      vhost: "shop",
      queue_name: "orders",
      exchange: "shop.direct",
      exchange_type: "direct",
      routing_key: "order.created",
      exchanges: [
        { name: "events", type: "topic" },
        { name: "broadcast", type: "fanout", durable: false },
      ],
      queues: [{ name: "audit", arguments: { "x-message-ttl": 60000 } }, { name: "mail" }, { name: "untouched" }],
      bindings: [
        { exchange: "events", queue: "audit", routing_key: "order.#" },
        { exchange: "broadcast", queue: "audit" },
        { exchange: "broadcast", queue: "mail" },
      ],
    });
    const started = Date.now();
    const handle = await lc.start(startCtx());
    const startMs = Date.now() - started;
    try {
      const o = handle.outputs;
      expect(o).toEqual({
        url: `amqp://app:${PASS}@${o.host}:${o.port}/shop`,
        internal_url: `amqp://app:${PASS}@mq:5672/shop`,
        management_url: `http://${o.host}:${o.management_port}`,
        internal_management_url: "http://mq:15672",
        host: expect.any(String),
        port: expect.any(Number),
        management_port: expect.any(Number),
        vhost: "shop",
        username: "app",
      });
      expect(logged).toContain("declaring 3 exchange(s), 4 queue(s), 4 binding(s)");
      expect((await lc.healthCheck()).status).toBe("healthy");

      // The broker's own view of what was declared (management API, as the configured user).
      const m = new Management(String(o.management_url), "app", PASS);
      const queues = (await m.request("GET", "/api/queues/shop")) as { name: string; durable: boolean; arguments: Record<string, unknown> }[];
      expect(queues.map((q) => q.name).sort()).toEqual(["audit", "mail", "orders", "untouched"]);
      expect(queues.find((q) => q.name === "audit")?.arguments).toEqual({ "x-message-ttl": 60000 });
      const exchanges = (await m.request("GET", "/api/exchanges/shop")) as { name: string; type: string; durable: boolean }[];
      expect(exchanges.filter((x) => ["shop.direct", "events", "broadcast"].includes(x.name)).map((x) => [x.name, x.type, x.durable]).sort()).toEqual([
        ["broadcast", "fanout", false],
        ["events", "topic", true],
        ["shop.direct", "direct", true],
      ]);

      // Publish and read through the management API (what an http step does).
      const routed = (await m.request("POST", "/api/exchanges/shop/shop.direct/publish", { properties: {}, routing_key: "order.created", payload: "order 1", payload_encoding: "string" })) as { routed: boolean };
      expect(routed).toEqual({ routed: true });
      const unrouted = (await m.request("POST", "/api/exchanges/shop/shop.direct/publish", { properties: {}, routing_key: "other", payload: "lost", payload_encoding: "string" })) as { routed: boolean };
      expect(unrouted).toEqual({ routed: false });
      const got = (await m.request("POST", "/api/queues/shop/orders/get", { count: 5, ackmode: "ack_requeue_false", encoding: "auto" })) as { payload: string; routing_key: string; exchange: string }[];
      expect(got.map((g) => [g.exchange, g.routing_key, g.payload])).toEqual([["shop.direct", "order.created", "order 1"]]);

      // Publish and consume over AMQP with a real client, by the `url` output.
      const conn = await amqp.connect(String(o.url));
      try {
        const ch = await conn.createChannel();
        ch.publish("events", "order.shipped", Buffer.from("shipped 1"));
        ch.publish("broadcast", "", Buffer.from("hello all"));
        await ch.close();
        const ch2 = await conn.createChannel();
        const drain = async (q: string) => {
          const out: string[] = [];
          for (let i = 0; i < 50 && out.length < 2; i++) {
            const msg = await ch2.get(q, { noAck: true });
            if (msg) out.push(msg.content.toString());
            else await new Promise((r) => setTimeout(r, 50));
            if (q !== "audit" && out.length === 1) break;
          }
          return out.sort();
        };
        expect(await drain("audit")).toEqual(["hello all", "shipped 1"]);
        expect(await drain("mail")).toEqual(["hello all"]);
        expect(await ch2.get("untouched", { noAck: true })).toBe(false);
        expect(await ch2.get("orders", { noAck: true })).toBe(false);
        await ch2.close();
      } finally {
        await conn.close();
      }

      // Wrong password: refused by both the management API and AMQP.
      await expect(new Management(String(o.management_url), "app", "wrong").request("GET", "/api/whoami")).rejects.toThrow(/answered 401/);
      await expect(amqp.connect(`amqp://app:wrong@${o.host}:${o.port}/shop`)).rejects.toThrow(/ACCESS_REFUSED|403/);
      // The vhost exists, the default one does not (so RABBITMQ_DEFAULT_VHOST was honoured).
      await expect(amqp.connect(`amqp://app:${PASS}@${o.host}:${o.port}/%2F`)).rejects.toThrow();

      // Another container on the run network reaches the broker by internal_management_url and internal_url.
      const other = await backend.run({ image: DEFAULT_IMAGE, entrypoint: ["sleep"], command: ["infinity"] }, { runId, service: "client", network });
      try {
        const pub = await other.exec(["rabbitmqadmin", "-H", "mq", "-P", "15672", "-u", "app", "-p", PASS, "-V", "shop", "publish", "exchange=shop.direct", "routing_key=order.created", "payload=from-client"]);
        expect(pub.stdout + pub.stderr).toContain("Message published");
        const amqpProbe = await other.exec([
          "python3",
          "-c",
          "import socket;s=socket.create_connection(('mq',5672),5);s.sendall(b'AMQP\\x00\\x00\\x09\\x01');d=s.recv(7);print(d[0],d[1:3].hex())",
        ]);
        // A method frame (type 1) on channel 0: the server's Connection.Start.
        expect(amqpProbe.stdout.trim()).toBe("1 0000");
      } finally {
        await other.remove();
      }
      const fromClient = (await m.request("POST", "/api/queues/shop/orders/get", { count: 5, ackmode: "ack_requeue_false", encoding: "auto" })) as { payload: string }[];
      expect(fromClient.map((g) => g.payload)).toEqual(["from-client"]);
      // RabbitMQ boots in ~10-20 s on a loaded machine: well inside the 90 s default start timeout.
      expect(startMs).toBeLessThan(90_000);

      // A broker that is gone is unhealthy, with the reason.
      await handle.primary?.kill();
      const h = await lc.healthCheck();
      expect(h.status).toBe("unhealthy");
      expect(h.reason).toMatch(/container exited with code \d+/);
    } finally {
      await lc.stop();
    }
  }, 180_000);

  it("a topology RabbitMQ refuses fails the start with its reason, without the password, and removes the container", async () => {
    // x-max-length must be a non-negative integer: RabbitMQ's precondition check refuses a string.
    const lc = lifecycle("bad", { queues: [{ name: "q", arguments: { "x-max-length": "lots" } }] });
    const err = await lc.start(startCtx()).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^service 'bad': declaring the topology failed: PUT \/api\/queues\/%2F\/q answered 400: .*x-max-length/);
    expect(err?.message).not.toContain(PASS);
    expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`, "--filter", "label=clnrm.service=bad"], { encoding: "utf8" }).trim()).toBe("");
  }, 180_000);
});
