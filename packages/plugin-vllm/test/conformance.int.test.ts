import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "clnrm-test/vllm-standin:latest", model: "facebook/opt-125m", gpus: 0, model_cache: false },
  invalidConfigs: [{}, { model: "m", gpus: -1 }, { model: "m", dtype: "int3" }, { model: "m", gpu_memory_utilization: 2 }],
  startupTimeoutMs: 60_000,
});
