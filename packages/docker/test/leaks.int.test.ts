// Leaks (issue 12): a run's network must go even after many containers left it at once; gc finishes
// what teardown could not; named volumes are per run unless kept. Everything is counted by label.
import { spawn } from "node:child_process";
import { parseVolume, volumesToMounts } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { dockerBackend, labelsFor, removeNetwork, runVolumeName } from "../src/index.js";
import { BUSYBOX, containersOf, docker, networksOf, newRunId } from "./helpers.js";

const backend = dockerBackend();
const runs: string[] = [];
const fresh = () => {
  const id = newRunId();
  runs.push(id);
  return id;
};
const volumesOf = async (runId: string) => (await docker("volume", "ls", "-q", "--filter", `label=clnrm.run=${runId}`)).split("\n").filter(Boolean);

afterAll(async () => {
  for (const r of runs) await backend.sweep({ runId: r, all: true, volumes: true });
});

/** How many containers share one network; 200 is the run (the engine lost endpoint counts there). */
const MANY = Number(process.env.CLNRM_LEAK_CONTAINERS ?? 200);

describe("a run network", () => {
  it(
    `is removed after ${MANY} containers on it are removed at once, as a run's teardown does`,
    async () => {
      const runId = fresh();
      const net = await backend.createNetwork(runId);
      const t0 = performance.now();
      const cs = [];
      // Started 10 at a time (what a wide wave costs the engine is not what this test is about).
      for (let i = 0; i < MANY; i += 10) {
        const batch = Array.from({ length: Math.min(10, MANY - i) }, (_, k) =>
          backend.run({ image: BUSYBOX, keepAlive: true }, { runId, service: `s${i + k}`, network: net }),
        );
        cs.push(...(await Promise.all(batch)));
      }
      const t1 = performance.now();
      await Promise.all(cs.map((c) => c.remove())); // one wave, all in parallel
      const t2 = performance.now();
      await net.remove();
      const t3 = performance.now();
      console.log(
        `${MANY} containers: start ${Math.round(t1 - t0)} ms, remove ${Math.round(t2 - t1)} ms, network remove ${Math.round(t3 - t2)} ms`,
      );
      expect(await containersOf(runId)).toEqual([]);
      expect(await networksOf(runId)).toEqual([]);
    },
    600_000,
  );

  it("removeNetwork force-disconnects an endpoint the engine still lists, then removes the network (what gc does)", async () => {
    const runId = fresh();
    const name = `clnrm-${runId}`;
    await docker("network", "create", "--label", "clnrm.managed=true", "--label", `clnrm.run=${runId}`, name);
    // A container that is not clnrm's (no labels) still attached: a plain `network rm` fails.
    const stray = await docker("run", "-d", "--network", name, BUSYBOX, "sleep", "60");
    try {
      await expect(docker("network", "rm", name)).rejects.toThrow(/active endpoints/);
      const id = await docker("network", "inspect", "-f", "{{.Id}}", name);
      await removeNetwork(await dockerode(), id, name, { retryMs: 2_000 });
      expect(await networksOf(runId)).toEqual([]);
      expect(await docker("inspect", "-f", "{{.State.Running}}", stray)).toBe("true"); // left alone, only disconnected
    } finally {
      await docker("rm", "-f", stray);
    }
  });
});

describe("named volumes", () => {
  it("are per run: a second run does not see what the first wrote, and teardown removes the run's volume", async () => {
    const first = fresh();
    const a = await backend.run({ image: BUSYBOX, keepAlive: true, mounts: [{ type: "volume", name: "data", target: "/data" }] }, { runId: first, service: "w" });
    expect((await a.exec(["sh", "-c", "echo secret-of-run-1 > /data/f && cat /data/f"])).stdout).toBe("secret-of-run-1\n");
    expect(await volumesOf(first)).toEqual([runVolumeName(first, "data")]);
    await a.remove();
    expect(await volumesOf(first)).toEqual([]);

    const second = fresh();
    const b = await backend.run({ image: BUSYBOX, keepAlive: true, mounts: [{ type: "volume", name: "data", target: "/data" }] }, { runId: second, service: "r" });
    const r = await b.exec(["sh", "-c", "cat /data/f 2>/dev/null || echo empty"]);
    expect(r.stdout).toBe("empty\n");
    await b.remove();
    expect(await volumesOf(second)).toEqual([]);
  });

  it("are shared by the containers of one run and go with the last of them", async () => {
    const runId = fresh();
    const mounts = [{ type: "volume" as const, name: "shared", target: "/s" }];
    const a = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId, service: "a" });
    const b = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId, service: "b" });
    await a.exec(["sh", "-c", "echo from-a > /s/f"]);
    expect((await b.exec(["cat", "/s/f"])).stdout).toBe("from-a\n");
    await a.remove();
    expect(await volumesOf(runId)).toEqual([runVolumeName(runId, "shared")]); // b still uses it
    await b.remove();
    expect(await volumesOf(runId)).toEqual([]);
  });

  it("a killed run's volume is swept with its containers by the next run's sweep (no `volumes` needed)", async () => {
    const runId = fresh();
    const child = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => child.on("exit", r));
    const dead = { ...labelsFor(runId), "clnrm.pid": String(child.pid) };
    const flags = (extra: Record<string, string>) => Object.entries({ ...dead, ...extra }).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const scoped = runVolumeName(runId, "data");
    const other = `clnrm-test-${runId}-unscoped`;
    await docker("volume", "create", ...flags({ "clnrm.volume": "data" }), scoped);
    await docker("volume", "create", ...flags({}), other);
    const report = await backend.sweep(); // what `clnrm run` does first
    expect(report.volumes).toContain(scoped);
    expect(report.volumes).not.toContain(other); // only `clnrm gc` (volumes: true) decides about those
    expect(await volumesOf(runId)).toEqual([other]);
  });

  it("a kept volume (clnrm.keep=true) keeps its name and its data across runs", async () => {
    const name = `clnrm-test-kept-${newRunId()}`;
    const mounts = [{ type: "volume" as const, name, target: "/k", labels: { "clnrm.keep": "true" } }];
    try {
      const first = fresh();
      const a = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId: first, service: "w" });
      await a.exec(["sh", "-c", "echo model-weights > /k/f"]);
      await a.remove();
      const second = fresh();
      const b = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId: second, service: "r" });
      expect((await b.exec(["cat", "/k/f"])).stdout).toBe("model-weights\n");
      await b.remove();
      expect(await docker("volume", "inspect", "-f", '{{index .Labels "clnrm.keep"}}', name)).toBe("true");
    } finally {
      await docker("volume", "rm", "-f", name);
    }
  });
});

describe("a test file's volumes", () => {
  it('"name:/path" is per run and "name:/path:keep" (or "ro,keep") outlives it, as the file says', async () => {
    const kept = `clnrm-test-keep-${newRunId()}`;
    const parse = (v: string) => {
      const p = parseVolume(v);
      if (typeof p === "string") throw new Error(p);
      return p;
    };
    expect(parseVolume("/host:/c:keep")).toMatch(/only a named volume can be kept/);
    expect(parseVolume("x:/c:ro,keep")).toMatchObject({ readOnly: true, keep: true });
    const mounts = volumesToMounts([parse("scratch:/s"), parse(`${kept}:/k:keep`)], "/");
    try {
      const first = fresh();
      const a = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId: first, service: "w" });
      await a.exec(["sh", "-c", "echo one > /s/f && echo one > /k/f"]);
      await a.remove();
      const second = fresh();
      const b = await backend.run({ image: BUSYBOX, keepAlive: true, mounts }, { runId: second, service: "r" });
      expect((await b.exec(["sh", "-c", "cat /s/f 2>/dev/null || echo empty; cat /k/f"])).stdout).toBe("empty\none\n");
      await b.remove();
      expect(await volumesOf(first)).toEqual([kept]); // labelled by the run that made it, kept
      expect(await volumesOf(second)).toEqual([]);
    } finally {
      await docker("volume", "rm", "-f", kept);
    }
  });
});

async function dockerode() {
  const { getContainerRuntimeClient } = await import("testcontainers");
  return (await getContainerRuntimeClient()).container.dockerode;
}
