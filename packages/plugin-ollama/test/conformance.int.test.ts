import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "clnrm-test/ollama-standin:latest", model_cache: false },
  invalidConfigs: [{ model: "bad name" }, { gpu: "yes" }, { gpu: true, gpu_enabled: false }, { port: 70000 }, { models: "llama2" }],
  startupTimeoutMs: 60_000,
});
