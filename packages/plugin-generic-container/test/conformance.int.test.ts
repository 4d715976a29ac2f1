import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "alpine:latest" },
  invalidConfigs: [{ image: "" }, { image: "alpine", ports: ["x"] }, { imgae: "alpine" }],
});
