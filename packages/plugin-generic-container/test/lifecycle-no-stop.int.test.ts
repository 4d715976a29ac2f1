/**
 * generic_container has no `stop`: the lifecycle's resource scope removes the containers its handle
 * names. Against the real Docker engine (no mocks): after the service stops, or after a start
 * whose health check fails, no container of the run is left, in any state.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, expect, it } from "vitest";
import plugin from "../src/index.js";

const backend = new DockerBackend();
const runId = `nostop-${randomBytes(4).toString("hex")}`;
const quiet = { progress() {}, warn() {}, debug() {} };

function containersOfRun(): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).split("\n").filter(Boolean);
}

function lifecycle(service: string, config: Record<string, unknown>, timeoutMs = 30_000) {
  const instance = plugin.create(plugin.configSchema.parse(config), { service, baseDir: process.cwd() });
  expect(instance.stop).toBeUndefined();
  return new ServiceLifecycle({ service, pluginType: plugin.type, plugin: instance, timeouts: { startMs: timeoutMs, healthMs: timeoutMs } });
}

const start = (lc: ServiceLifecycle) => lc.start({ runId, backend, network: undefined, baseDir: process.cwd(), log: quiet, dependencies: {}, services: new Map() });

afterAll(async () => {
  await backend.sweep({ runId });
});

it("stopping the service removes its container", async () => {
  const lc = lifecycle("sleeper", { image: "alpine:latest", command: ["sleep", "infinity"] });
  const handle = await start(lc);
  expect(lc.state).toBe("running");
  expect(handle.primary).toBeDefined();
  expect(containersOfRun()).toHaveLength(1);
  await lc.stop();
  expect(lc.state).toBe("stopped");
  expect(containersOfRun()).toEqual([]);
}, 60_000);

it("a start whose health check never passes leaves no container", async () => {
  const lc = lifecycle("deaf", { image: "alpine:latest", command: ["sleep", "infinity"], health_check: { type: "tcp", port: 9999, timeout: "1s" } }, 3_000);
  await expect(start(lc)).rejects.toThrow(/deaf/);
  expect(lc.state).toBe("failed");
  expect(containersOfRun()).toEqual([]);
}, 60_000);
