import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";
import plugin from "../src/index.js";

pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "alpine:latest" },
  invalidConfigs: [{ image: "" }, { image: "alpine", ports: ["x"] }, { imgae: "alpine" }],
  // The secret field is the HTTP health check's bearer token: a busybox httpd answers the probe.
  secretConfig: (secret) => ({
    image: "clnrm-test/busybox:latest",
    command: ["sh", "-c", "mkdir -p /w && echo ok > /w/index.html && exec httpd -f -p 8080 -h /w"],
    ports: ["8080"],
    health_check: { type: "http", port: 8080, path: "/", auth_token: secret },
  }),
});
