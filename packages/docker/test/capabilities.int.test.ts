import { ResourceScope } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { DockerBackend } from "../src/index.js";
import { docker } from "./helpers.js";

describe("DockerBackend.capabilities", () => {
  it("reports the engine's runtimes, memory and CPUs as `docker info` does, asked once per instance", async () => {
    const info = JSON.parse(await docker("info", "--format", "{{json .}}")) as { Runtimes: Record<string, unknown>; MemTotal: number; NCPU: number };
    const backend = new DockerBackend();
    const caps = await backend.capabilities();
    expect(caps).toEqual({
      gpu: "nvidia" in info.Runtimes,
      runtimes: Object.keys(info.Runtimes).sort(),
      memoryBytes: info.MemTotal,
      cpus: info.NCPU,
    });
    expect(caps.runtimes).toContain("runc");
    expect(caps.memoryBytes).toBeGreaterThan(0);
    expect(caps.cpus).toBeGreaterThan(0);
    expect(backend.capabilities()).toBe(backend.capabilities());
    expect(new DockerBackend().capabilities()).not.toBe(backend.capabilities());
  });

  it("is forwarded by the lifecycle's ResourceScope, which plugins see as ctx.backend", async () => {
    const backend = new DockerBackend();
    const scoped = new ResourceScope(backend).backend;
    expect(await scoped.capabilities?.()).toEqual(await backend.capabilities());
    const { capabilities: _none, ...bare } = { ...scoped, run: backend.run.bind(backend) };
    expect(new ResourceScope(bare).backend.capabilities).toBeUndefined();
  });
});
