// Teardown says what it could not remove instead of dropping it silently (issue 12, "Leaks").
//
// The network Docker 20.10 cannot remove (it lost endpoint-count decrements when 200 containers left
// at once, moby/moby#42119) comes from a race inside the engine and can't be produced on demand. So
// this backend is the real engine except for the run network's removal, which fails as the docker
// backend reports that state, and a sweep that can't remove it either. The network is really
// created, and removed for real at the end.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ContainerBackend, ContainerError, type NetworkHandle } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, describe, expect, it } from "vitest";
import { type PluginResolver, type RunEvent, planTest, runTest } from "../src/index.js";
import { box, leftFor, tempDir } from "./steps-fixture.js";

const dir = tempDir("clnrm-teardown-left-");
const real = dockerBackend();
const networks: NetworkHandle[] = [];
afterAll(async () => {
  for (const n of networks) await n.remove();
});

const stuckNetwork: ContainerBackend = {
  name: "docker",
  ping: () => real.ping(),
  run: (spec, options) => real.run(spec, options),
  async createNetwork(runId) {
    const n = await real.createNetwork(runId);
    networks.push(n);
    return {
      id: n.id,
      name: n.name,
      remove: async () => {
        throw new ContainerError(`cannot remove network '${n.name}': the engine counts endpoints on it that no container has (a Docker bug, moby/moby#42119)`, {
          hint: "restart the Docker engine (it recounts endpoints when it starts), then run clnrm gc",
        });
      },
    };
  },
  async sweep(options) {
    const r = await real.sweep(options);
    return { ...r, networks: [] }; // (the real sweep removed it; the stuck engine would not have)
  },
};

const resolver: PluginResolver = { resolve: async () => ({ definition: box, package: "inline", version: undefined }) };

describe("teardown", () => {
  it("reports a network it could not remove, in the teardown event and the result", async () => {
    const file = join(dir, "two.clnrm.toml");
    writeFileSync(file, `[meta]\nname = "two"\n\n[services.a]\ntype = "box"\n\n[services.b]\ntype = "box"\n\n[[steps]]\nname = "hi"\nservice = "a"\ncommand = ["echo", "hi"]\n`);
    const events: RunEvent[] = [];
    const result = await runTest(await planTest(file, resolver), { backend: stuckNetwork, onEvent: (e) => events.push(e) });
    expect(result.status).toBe("passed");
    const line = `cannot remove network 'clnrm-${result.runId}': the engine counts endpoints on it that no container has (a Docker bug, moby/moby#42119) (restart the Docker engine (it recounts endpoints when it starts), then run clnrm gc)`;
    expect(result.leftBehind).toEqual([line]);
    expect(events.find((e) => e.type === "teardown")).toMatchObject({ left: [line] });
    expect(leftFor(result.runId)).toBe(""); // the containers went
  });

  it("a clean teardown reports nothing", async () => {
    const file = join(dir, "clean.clnrm.toml");
    writeFileSync(file, `[meta]\nname = "clean"\n\n[services.a]\ntype = "box"\n\n[services.b]\ntype = "box"\n`);
    const events: RunEvent[] = [];
    const result = await runTest(await planTest(file, resolver), { backend: real, onEvent: (e) => events.push(e) });
    expect(result.leftBehind).toBeUndefined();
    expect(events.find((e) => e.type === "teardown")).not.toHaveProperty("left");
  });
});
