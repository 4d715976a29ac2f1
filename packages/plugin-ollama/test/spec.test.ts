import { describe, expect, it } from "vitest";
import { captureLog } from "@clnrm/plugin-kit/testing";
import plugin, { configSchema, gpuMode, modelsOf, PullProgress, sameModel, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);

describe("ollama ContainerSpec for the real image", () => {
  it("defaults: pinned upstream image, port 11434 on a random host port, cached model volume, no GPU", () => {
    expect(toContainerSpec(parse({ model: "llama2" }))).toEqual({
      image: "ollama/ollama:0.6.5",
      env: { OLLAMA_HOST: "0.0.0.0:11434" },
      ports: [{ container: 11434 }],
      mounts: [
        { type: "volume", name: "clnrm-model-cache-ollama", target: "/root/.ollama", labels: { "clnrm.managed": "true", "clnrm.keep": "true" } },
      ],
    });
    expect(plugin.defaults?.startupTimeoutMs).toBe(15 * 60_000);
  });

  it("gpu_enabled = true requests every GPU; a fixed port; no cache", () => {
    const spec = toContainerSpec(parse({ gpu_enabled: true, port: 21434, model_cache: false, env: { OLLAMA_KEEP_ALIVE: "1h" } }));
    expect(spec.gpus).toEqual({ count: "all", capabilities: ["gpu"] });
    expect(spec.ports).toEqual([{ container: 11434, host: 21434 }]);
    expect(spec.mounts).toEqual([]);
    expect(spec.env).toEqual({ OLLAMA_HOST: "0.0.0.0:11434", OLLAMA_KEEP_ALIVE: "1h" });
  });

  it("gpu modes", () => {
    expect(gpuMode(parse({}))).toBe("off");
    expect(gpuMode(parse({ gpu_enabled: false }))).toBe("off");
    expect(gpuMode(parse({ gpu_enabled: true }))).toBe("required");
    expect(gpuMode(parse({ gpu: "auto" }))).toBe("auto");
    expect(toContainerSpec(parse({ gpu: "auto" })).gpus).toEqual({ count: "all", capabilities: ["gpu"] });
    expect(toContainerSpec(parse({ gpu: false })).gpus).toBeUndefined();
  });

  it("models: model + models, deduplicated; llama2 == llama2:latest", () => {
    expect(modelsOf(parse({ model: "llama2", models: ["mistral", "llama2"] }))).toEqual(["llama2", "mistral"]);
    expect(sameModel("llama2", "llama2:latest")).toBe(true);
    expect(sameModel("llama2:13b", "llama2:latest")).toBe(false);
  });

  it("rejects bad config", () => {
    for (const bad of [{ model: "" }, { model: "bad name" }, { gpu: "yes" }, { gpu: true, gpu_enabled: true }, { port: 0 }, { image: "" }, { model_cache: "no/slash" }, { bogus: 1 }]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("pull progress", () => {
  it("reports percent and size at most every interval, status changes at once, errors", () => {
    const log = captureLog();
    let t = 0;
    const p = new PullProgress("llama2", log, 500, () => t);
    const layer = (completed: number) => JSON.stringify({ status: "pulling 8934d96d3f08", digest: "sha256:8934", total: 2_900_000_000, completed });
    p.line(JSON.stringify({ status: "pulling manifest" }));
    t = 100;
    p.line(layer(0));
    t = 200;
    p.line(layer(1_218_000_000)); // within 500 ms of the last line: dropped
    t = 700;
    p.line(layer(1_218_000_000));
    t = 800;
    p.line(JSON.stringify({ status: "verifying sha256 digest" }));
    p.line(JSON.stringify({ status: "success" }));
    expect(log.lines).toEqual([
      "pulling llama2: pulling manifest",
      "pulling llama2: 42% (1.2/2.9 GB)",
      "pulling llama2: verifying sha256 digest",
    ]);
    expect(p.success).toBe(true);
    const q = new PullProgress("missing-x", log);
    q.line('{"error":"pull model manifest: file does not exist"}');
    expect(q.error).toBe("pull model manifest: file does not exist");
    expect(q.success).toBe(false);
  });
});
