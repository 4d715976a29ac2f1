import { join } from "node:path";
import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

// postgres:15 here is the local test build of the real server (tools/test-images/postgres: Debian's postgresql-15).
pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { database_name: "app", username: "app", password: "conf-pass", init_scripts: ["schema.sql"] },
  invalidConfigs: [{ image: "" }, { username: "" }, { port: "1:2:3" }, { database: "a", database_name: "b" }, { env: { POSTGRES_PASSWORD: "x" } }],
  // The urls carry the password on purpose (steps connect with them): reports show them redacted.
  secretOutputs: ["url", "internal_url"],
  baseDir: join(import.meta.dirname, "fixtures"),
  startupTimeoutMs: 60_000,
});
