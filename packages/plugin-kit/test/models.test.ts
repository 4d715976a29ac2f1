import { totalmem } from "node:os";
import type { ContainerBackend, EngineCapabilities } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { hfTokenEnv, warnIfHfTokenMissing, modelCacheMount, modelMemoryGiB, warnIfModelsShortOfMemory, warnIfShortOfMemory } from "../src/index.js";
import { captureLog, fakeStartContext } from "../src/testing.js";

const GiB = 1024 ** 3;

function withCaps(caps: EngineCapabilities | undefined): ContainerBackend {
  const base = fakeStartContext().backend;
  return caps ? { ...base, name: "docker", capabilities: async () => caps } : base;
}

describe("model memory", () => {
  it("knows the memory of well-known models", () => {
    expect(modelMemoryGiB("llama2:13b")).toBe(16);
    expect(modelMemoryGiB("meta-llama/Llama-2-7b-hf")).toBe(8);
    expect(modelMemoryGiB("facebook/opt-125m")).toBe(1);
    expect(modelMemoryGiB("some-unknown-model")).toBeUndefined();
  });

  it("warns when a known model needs more memory than is available", () => {
    const log = captureLog();
    expect(warnIfShortOfMemory(log, "llama2:13b", 8 * GiB)).toBe(true);
    expect(log.warnings[0]).toBe("model 'llama2:13b' needs about 16 GiB of memory but this machine has 8.0 GiB; it may fail to load or be very slow");
    expect(warnIfShortOfMemory(log, "llama2", 16 * GiB)).toBe(false);
    expect(warnIfShortOfMemory(log, "tinyllama", 2 * GiB)).toBe(false);
    expect(warnIfShortOfMemory(log, "some-unknown-model", 1)).toBe(false);
    expect(log.warnings).toHaveLength(1);
  });

  it("compares with the engine's memory when the backend reports it, else with the host's", async () => {
    const log = captureLog();
    const small = { gpu: false, runtimes: ["runc"], memoryBytes: 4 * GiB, cpus: 2 };
    await warnIfModelsShortOfMemory(fakeStartContext({ log, backend: withCaps(small) }), ["llama2", "tinyllama", "unknown"]);
    expect(log.warnings).toEqual(["model 'llama2' needs about 8 GiB of memory but the docker engine has 4.0 GiB; it may fail to load or be very slow"]);

    const big = captureLog();
    await warnIfModelsShortOfMemory(fakeStartContext({ log: big, backend: withCaps({ ...small, memoryBytes: 64 * GiB }) }), ["llama2:13b"]);
    expect(big.warnings).toEqual([]);

    const host = captureLog();
    await warnIfModelsShortOfMemory(fakeStartContext({ log: host, backend: withCaps(undefined) }), ["llama2:70b"]);
    const have = totalmem() / GiB;
    expect(host.warnings).toEqual(
      have >= 64 ? [] : [`model 'llama2:70b' needs about 64 GiB of memory but this machine has ${have.toFixed(1)} GiB; it may fail to load or be very slow`],
    );
  });
});

describe("model caches and the HF token", () => {
  it("a cache mount is a named volume kept by clnrm gc (clnrm.keep)", () => {
    expect(modelCacheMount("clnrm-model-cache-hf", "/data")).toEqual({
      type: "volume",
      name: "clnrm-model-cache-hf",
      target: "/data",
      labels: { "clnrm.managed": "true", "clnrm.keep": "true" },
    });
  });

  it("the token goes in both variables the HF libraries read, or nowhere", () => {
    expect(hfTokenEnv("hf_x")).toEqual({ HF_TOKEN: "hf_x", HUGGING_FACE_HUB_TOKEN: "hf_x" });
    expect(hfTokenEnv(undefined)).toEqual({});
    expect(hfTokenEnv("")).toEqual({});
  });

  it("warns only when an explicitly named token variable is not set, without any token value", () => {
    const log = captureLog();
    expect(warnIfHfTokenMissing(log, undefined, {})).toBe(false);
    expect(warnIfHfTokenMissing(log, "MY_TOKEN", { MY_TOKEN: "hf_secret" })).toBe(false);
    expect(warnIfHfTokenMissing(log, "MY_TOKEN", {})).toBe(true);
    expect(log.warnings).toEqual(["environment variable MY_TOKEN (hf_token_env) is not set: gated models will fail to download"]);
  });
});
