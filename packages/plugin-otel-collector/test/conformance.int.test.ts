import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "clnrm-test/otel-collector-standin:latest" },
  invalidConfigs: [{ image: "" }, { grpc_port: 0 }, { config_file: "c.yaml", exporters: { debug: {} } }],
  startupTimeoutMs: 30_000,
});
