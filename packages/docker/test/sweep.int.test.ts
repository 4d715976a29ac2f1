import { spawn } from "node:child_process";
import { execFile } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ContainerError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { DockerBackend, dockerBackend, labelsFor } from "../src/index.js";
import { ALPINE, containersOf, docker, networksOf, newRunId } from "./helpers.js";

const liveRun = newRunId();
const deadRun = newRunId();
const backend = dockerBackend();

afterAll(async () => {
  await backend.sweep({ runId: liveRun, volumes: true });
  await backend.sweep({ runId: deadRun, volumes: true });
  await docker("volume", "rm", "-f", `clnrm-test-${deadRun}-cache`); // kept volume: only `all` would sweep it
  expect(await containersOf(liveRun)).toEqual([]);
  expect(await containersOf(deadRun)).toEqual([]);
  expect(await networksOf(liveRun)).toEqual([]);
  expect(await networksOf(deadRun)).toEqual([]);
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"]);
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

describe("sweep", () => {
  it("removes a dead run's containers and network but never a live run's", async () => {
    const pid = await deadPid();
    const labels = { ...labelsFor(deadRun, "old"), "clnrm.pid": String(pid) };
    const flags = Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const netName = `clnrm-${deadRun}`;
    await docker("network", "create", ...flags, netName);
    const dead = await docker("create", ...flags, "--name", `clnrm-${deadRun}-old`, "--network", netName, ALPINE, "sleep", "60");
    expect(dead).toMatch(/^[0-9a-f]{64}$/);

    const net = await backend.createNetwork(liveRun);
    const live = await backend.run({ image: ALPINE, keepAlive: true }, { runId: liveRun, service: "live", network: net });

    const report = await backend.sweep();
    expect(report.containers).toContain(`clnrm-${deadRun}-old`);
    expect(report.networks).toContain(netName);
    expect(report.containers).not.toContain(live.name);
    expect(report.networks).not.toContain(net.name);
    expect(await containersOf(deadRun)).toEqual([]);
    expect(await networksOf(deadRun)).toEqual([]);
    expect((await live.state()).running).toBe(true);

    const mine = await backend.sweep({ runId: liveRun });
    expect(mine.containers).toEqual([live.name]);
    expect(mine.networks).toEqual([net.name]);
    await net.remove(); // already gone: still fine
    expect(await containersOf(liveRun)).toEqual([]);
  });

  it("labels the run network", async () => {
    const net = await backend.createNetwork(`${liveRun}-n`);
    const labels = JSON.parse(await docker("network", "inspect", "-f", "{{json .Labels}}", net.name));
    expect(labels).toEqual({ "clnrm.managed": "true", "clnrm.run": `${liveRun}-n`, "clnrm.pid": String(process.pid), "clnrm.host": hostname() });
    expect(net.name).toBe(`clnrm-${liveRun}-n`);
    await net.remove();
    await net.remove();
  });

  it("creates a labelled kept volume if missing, keeps it, and removes it only with volumes: true and all", async () => {
    const vol = `clnrm-test-${liveRun}`;
    const c = await backend.run(
      { image: ALPINE, keepAlive: true, mounts: [{ type: "volume", name: vol, target: "/cache", labels: { purpose: "test", "clnrm.keep": "true" } }] },
      { runId: liveRun, service: "vol" },
    );
    expect((await c.exec(["sh", "-c", "echo cached > /cache/f && cat /cache/f"])).stdout).toBe("cached\n");
    await c.remove();
    expect(await docker("volume", "inspect", "-f", "{{index .Labels \"purpose\"}} {{index .Labels \"clnrm.managed\"}} {{index .Labels \"clnrm.run\"}}", vol)).toBe(`test true ${liveRun}`);
    const keep = await backend.sweep({ runId: liveRun });
    expect(keep.volumes).toEqual([]);
    expect((await backend.sweep({ runId: liveRun, volumes: true })).volumes).toEqual([]);
    const all = await backend.sweep({ runId: liveRun, all: true, volumes: true });
    expect(all.volumes).toContain(vol);
    await expect(docker("volume", "inspect", vol)).rejects.toThrow();
  });

  it("volumes: true removes unused scratch volumes (a dead run's too, a live run's never); kept ones (clnrm.keep) only with all", async () => {
    const pid = await deadPid();
    const dead = Object.entries({ ...labelsFor(deadRun), "clnrm.pid": String(pid) }).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const scratch = `clnrm-test-${deadRun}-scratch`;
    const cache = `clnrm-test-${deadRun}-cache`;
    await docker("volume", "create", ...dead, scratch);
    await docker("volume", "create", ...dead, "--label", "clnrm.keep=true", cache);
    // Unused, but its run (this process) is alive. (A run's own named volumes go with its containers;
    // this one stands for a volume a live run has not mounted yet.)
    const liveVol = `clnrm-test-${liveRun}-live`;
    await docker("volume", "create", ...Object.entries(labelsFor(liveRun)).flatMap(([k, v]) => ["--label", `${k}=${v}`]), liveVol);
    const volumesOf = async (run: string) => (await docker("volume", "ls", "-q", "--filter", `label=clnrm.run=${run}`)).split("\n").filter(Boolean).sort();
    expect(await volumesOf(deadRun)).toEqual([cache, scratch]);

    const gc = await backend.sweep({ volumes: true }); // what `clnrm gc` does
    expect(gc.volumes).toContain(scratch);
    expect(gc.volumes).not.toContain(cache);
    expect(gc.volumes).not.toContain(liveVol);
    expect(await volumesOf(deadRun)).toEqual([cache]);
    expect(await volumesOf(liveRun)).toEqual([liveVol]);

    expect((await backend.sweep({ runId: deadRun, volumes: true })).volumes).toEqual([]);
    expect((await backend.sweep({ runId: deadRun, all: true, volumes: true })).volumes).toEqual([cache]); // `clnrm gc --all`, scoped to this run
    expect((await backend.sweep({ runId: liveRun, volumes: true })).volumes).toEqual([liveVol]);
    expect(await volumesOf(deadRun)).toEqual([]);
    expect(await volumesOf(liveRun)).toEqual([]);
  });

  it("ping fails fast with a one-line error when the engine is unreachable", async () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const script = `import(${JSON.stringify(dist)}).then(async (m) => { try { await new m.DockerBackend().ping(); console.log("ok"); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, environment: e.environment, message: e.message, hint: e.hint })); } });`;
    const t0 = Date.now();
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["-e", script], {
      env: { ...process.env, DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({
      name: "ContainerError",
      code: "CLNRM_ERR_ENGINE_UNREACHABLE",
      environment: true,
      message: "cannot reach the Docker engine at unix:///nonexistent/docker.sock",
      hint: "start it (sudo systemctl start docker, or dockerd &) or set DOCKER_HOST",
    });
    expect(ContainerError.name).toBe("ContainerError");
  });

  it("dockerBackend() is a shared instance", () => {
    expect(dockerBackend()).toBe(backend);
    expect(new DockerBackend().name).toBe("docker");
  });
});
