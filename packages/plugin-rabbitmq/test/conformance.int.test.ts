import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

// rabbitmq:3.10-management here is the local test build of the real server (tools/test-images/rabbitmq: Debian's rabbitmq-server 3.10).
pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { username: "app", password: "conf-pass", vhost: "conf", queue_name: "jobs" },
  invalidConfigs: [{ image: "" }, { username: "" }, { port: "1:2:3" }, { routing_key: "k" }, { env: { RABBITMQ_DEFAULT_PASS: "x" } }, { queues: [{ name: "q" }], bindings: [{ exchange: "x", queue: "q" }] }],
  // The amqp urls carry the password on purpose (steps connect with them): reports show them redacted.
  secretOutputs: ["url", "internal_url"],
  startupTimeoutMs: 120_000,
  testTimeoutMs: 240_000,
});
