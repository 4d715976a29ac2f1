import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

// Against the local redis:7.0 (tools/test-images/redis: Debian's redis-server under the upstream tag).
pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { password: "conf-pass", databases: 4, init: [["SET", "k", "v"]] },
  invalidConfigs: [{ image: "" }, { append_only: "yes" }, { databases: 0 }, { port: "1:2:3" }, { init: [[]] }, { requirepass: "x" }],
  // The url outputs carry the password on purpose (for `redis-cli -u`): reports must show them redacted.
  secretOutputs: ["url", "internal_url"],
  startupTimeoutMs: 30_000,
});
