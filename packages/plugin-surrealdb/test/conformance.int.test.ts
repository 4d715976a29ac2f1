import { join } from "node:path";
import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "clnrm-test/surrealdb-standin:latest", pass: "conf-pass", init: "CREATE t SET a = 1;" },
  invalidConfigs: [{ image: "" }, { strict: "yes" }, { namespace: "no-dash" }, { port: "1:2:3" }, { ns: "x" }],
  baseDir: join(import.meta.dirname, "fixtures"),
  startupTimeoutMs: 30_000,
});
