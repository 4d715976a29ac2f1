import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "clnrm-test/tgi-standin:latest", model_id: "bigscience/bloom-560m", gpus: 0, model_cache: false },
  invalidConfigs: [{}, { model_id: "m", quantize: "int3" }, { model_id: "m", num_shard: 0 }, { model_id: "m", extra_args: "--x" }],
  startupTimeoutMs: 60_000,
});
