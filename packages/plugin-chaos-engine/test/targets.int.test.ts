import { execFileSync } from "node:child_process";
import type { RunningContainer } from "@clnrm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, type Env, leftContainers, setup, startChaos, TOOLS, teardown } from "./helpers.js";

let env: Env | undefined;

beforeAll(async () => {
  env = await setup();
}, 120_000);

afterAll(async () => {
  await teardown(env);
  if (env) expect(leftContainers(env.runId)).toBe("");
}, 60_000);

/** Number of our iptables rules in the netns `inspector` shares. */
const rules = async (inspector: RunningContainer) => Number((await inspector.exec(["sh", "-c", "iptables -w -S | grep -c clnrm- || true"])).stdout.trim());
const sidecarsLeft = (runId: string) => execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`, "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" }).trim();

describe("chaos_engine targets (real Docker)", () => {
  it("without targets: every service given is a target; one that is no longer running is skipped with a warning", async () => {
    const e = env!;
    const done = await e.backend.run({ image: BUSYBOX, keepAlive: true }, { runId: e.runId, service: "done", network: e.network });
    await done.kill("SIGKILL");
    const clientNet = await e.backend.run({ image: TOOLS, keepAlive: true, networkOf: e.client.id, capAdd: ["NET_ADMIN"] }, { runId: e.runId, service: "inspector2" });
    const { handle, stop } = await startChaos(e, { sidecar_image: TOOLS, block_ports: [9] }, { web: e.web, client: e.client, done });
    try {
      expect(handle.outputs.targets).toBe("web,client");
      expect(e.log.lines).toContain("warn: skipping 'done': it is not running (exited)");
      expect(await rules(e.inspector)).toBeGreaterThan(0);
      expect(await rules(clientNet)).toBeGreaterThan(0);
    } finally {
      await stop();
    }
    expect(await rules(e.inspector)).toBe(0);
    expect(await rules(clientNet)).toBe(0);
    expect(sidecarsLeft(e.runId)).toBe("");
  });

  it("a named target that is not running fails the start with its status, and leaves nothing", async () => {
    const e = env!;
    const gone = await e.backend.run({ image: BUSYBOX, keepAlive: true }, { runId: e.runId, service: "gone", network: e.network });
    await gone.kill("SIGKILL");
    await expect(startChaos(e, { sidecar_image: TOOLS, targets: ["gone"], block_ports: [9] }, { gone })).rejects.toThrow(/target 'gone' is not running \(exited, exit code 137\)/);
    expect(sidecarsLeft(e.runId)).toBe("");
  });
});
