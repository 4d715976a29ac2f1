import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerError, TimeoutError } from "@clnrm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerBackend } from "../src/index.js";
import { ALPINE, BUSYBOX, containersOf, httpdCommand, networksOf, newRunId, until } from "./helpers.js";

const runId = newRunId();
const backend = new DockerBackend();
let dir: string;

beforeAll(async () => {
  await backend.ping();
  dir = await mkdtemp(join(tmpdir(), "clnrm-docker-"));
});

afterAll(async () => {
  await backend.sweep({ runId });
  await rm(dir, { recursive: true, force: true });
  expect(await containersOf(runId)).toEqual([]);
  expect(await networksOf(runId)).toEqual([]);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

describe.concurrent("DockerBackend.run", () => {
  it("publishes a port on a random host port, reachable from the host, after the http probe passes", async () => {
    const c = await backend.run(
      { image: BUSYBOX, command: httpdCommand("hello"), ports: [{ container: 8080 }], health: { kind: "http", port: 8080, timeoutMs: 10_000 } },
      { runId, service: "web" },
    );
    expect(c.name).toMatch(new RegExp(`^clnrm-${runId}-web-[0-9a-f]{6}$`));
    expect(c.ports[8080]).toBe(c.mappedPort(8080));
    const res = await fetch(`http://${c.host}:${c.mappedPort(8080)}/`);
    expect(await res.text()).toBe("hello\n");
    expect(await c.probe()).toBe(true);
    expect(() => c.mappedPort(9999)).toThrow(ContainerError);
    const labels = JSON.parse(await (await import("./helpers.js")).docker("inspect", "-f", "{{json .Config.Labels}}", c.id));
    expect(labels).toMatchObject({ "clnrm.run": runId, "clnrm.service": "web", "clnrm.managed": "true", "clnrm.pid": String(process.pid) });
    expect(new Date(labels["clnrm.started-at"]).getTime()).toBeGreaterThan(Date.now() - 60_000);
    await c.remove();
  });

  it("binds a fixed host port", async () => {
    const port = await freePort();
    const c = await backend.run(
      { image: BUSYBOX, command: httpdCommand("fixed"), ports: [{ container: 8080, host: port }], health: { kind: "tcp", port: 8080 } },
      { runId, service: "fixed" },
    );
    expect(c.mappedPort(8080)).toBe(port);
    expect(await (await fetch(`http://${c.host}:${port}/`)).text()).toBe("fixed\n");
    await c.remove();
  });

  it("sets env, and exec separates stdout from stderr and returns the exit code", async () => {
    const c = await backend.run({ image: ALPINE, keepAlive: "auto", env: { FOO: "bar" } }, { runId, service: "env" });
    const r = await c.exec(["sh", "-c", 'echo "$FOO $BAZ"; echo oops >&2; exit 3'], { env: { BAZ: "qux" } });
    expect(r).toMatchObject({ exitCode: 3, stdout: "bar qux\n", stderr: "oops\n" });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    const w = await c.exec(["pwd"], { workdir: "/etc", user: "nobody" });
    expect(w.stdout).toBe("/etc\n");
    expect((await c.exec(["id", "-un"], { user: "nobody" })).stdout).toBe("nobody\n");
    await c.remove();
  });

  it("times out a long exec with a TimeoutError", async () => {
    const c = await backend.run({ image: ALPINE, keepAlive: true }, { runId, service: "slow" });
    const t0 = Date.now();
    await expect(c.exec(["sleep", "30"], { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect((await c.exec(["echo", "still"])).stdout).toBe("still\n");
    await c.remove();
  });

  it("mounts a bind mount read-only or read-write", async () => {
    await writeFile(join(dir, "in.txt"), "from host");
    const c = await backend.run(
      {
        image: ALPINE,
        keepAlive: "auto",
        mounts: [
          { type: "bind", source: dir, target: "/ro", readOnly: true },
          { type: "bind", source: dir, target: "/rw" },
          { type: "tmpfs", target: "/scratch", sizeMb: 8 },
        ],
      },
      { runId, service: "mounts" },
    );
    expect((await c.exec(["cat", "/ro/in.txt"])).stdout).toBe("from host");
    const denied = await c.exec(["sh", "-c", "echo x > /ro/out.txt"]);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/read-only/i);
    expect((await c.exec(["sh", "-c", "echo y > /rw/out.txt"])).exitCode).toBe(0);
    expect(await readFile(join(dir, "out.txt"), "utf8")).toBe("y\n");
    expect((await c.exec(["sh", "-c", "grep ' /scratch ' /proc/mounts"])).stdout).toMatch(/tmpfs.*size=8192k/);
    await c.remove();
  });

  it("overrides the command and the entrypoint", async () => {
    // Both keep running after printing: a command that is done before the start returns is reported
    // as "exited before it was ready" (a one-shot, see plugin-generic-container), and on a loaded
    // machine whether that happens first is a race.
    const [cmd, ep] = await Promise.all([
      backend.run({ image: BUSYBOX, command: ["sh", "-c", "echo from-command; exec sleep 60"] }, { runId, service: "cmd" }),
      backend.run({ image: BUSYBOX, entrypoint: ["/bin/sh", "-c", 'echo from-entrypoint "$0"; exec sleep 60'], command: ["arg"] }, { runId, service: "ep" }),
    ]);
    await until(async () => (await cmd.logs()) !== "" && (await ep.logs()) !== "");
    expect(await cmd.logs()).toBe("from-command\n");
    expect(await ep.logs()).toBe("from-entrypoint arg\n");
    expect(await cmd.state()).toMatchObject({ running: true, status: "running" });
    await Promise.all([cmd.remove(), ep.remove()]);
  });

  it("keepAlive auto keeps a bare-shell image running; without it the shell exits", async () => {
    const [kept, plain] = await Promise.all([
      backend.run({ image: ALPINE, keepAlive: "auto" }, { runId, service: "kept" }),
      backend.run({ image: ALPINE }, { runId, service: "plain" }),
    ]);
    await until(async () => !(await plain.state()).running);
    expect((await kept.state()).running).toBe(true);
    expect(await kept.exec(["echo", "alive"])).toMatchObject({ exitCode: 0, stdout: "alive\n" });
    // The keep-alive exits promptly on SIGTERM, so a graceful remove is quick.
    const t0 = Date.now();
    await kept.remove({ timeoutMs: 5_000 });
    expect(Date.now() - t0).toBeLessThan(3_000);
    await plain.remove();
  });

  it("returns logs with a tail, and remove is idempotent", async () => {
    const c = await backend.run({ image: BUSYBOX, command: ["sh", "-c", "echo one; echo two >&2; echo three; sleep 60"] }, { runId, service: "logs" });
    await until(async () => (await c.logs()).includes("three"));
    // stdout and stderr are separate streams in Docker's log: their relative order is not kept.
    expect((await c.logs()).split("\n").sort()).toEqual(["", "one", "three", "two"]);
    // The tail is the last lines by time; "two" (stderr) may be stamped after "three".
    expect(["three\n", "two\n"]).toContain(await c.logs({ tail: 1 }));
    const two = (await c.logs({ tail: 2 })).trimEnd().split("\n");
    expect(two).toHaveLength(2);
    expect(two).toContain("three");
    await Promise.all([c.remove(), c.remove()]);
    await c.remove();
    expect(await c.state()).toEqual({ running: false, status: "removed" });
    expect(await c.logs()).toBe("");
    expect(await c.probe()).toBe(false);
    await expect(c.exec(["true"])).rejects.toBeInstanceOf(ContainerError);
  });

  it("reaches services by name and alias on the run network", async () => {
    const net = await backend.createNetwork(runId);
    try {
      const b = await backend.run(
        { image: BUSYBOX, command: httpdCommand("from-b"), aliases: ["web-alias"], health: { kind: "tcp", port: 8080 } },
        { runId, service: "b", network: net },
      );
      const a = await backend.run({ image: BUSYBOX, keepAlive: true }, { runId, service: "a", network: net });
      expect(b.networkIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      for (const host of ["b", "web-alias", b.networkIp]) {
        const r = await a.exec(["wget", "-qO-", `http://${host}:8080/`], { timeoutMs: 10_000 });
        expect(r).toMatchObject({ exitCode: 0, stdout: "from-b\n" });
      }
      // A sidecar shares b's network namespace: localhost is b.
      const side = await backend.run({ image: BUSYBOX, keepAlive: true, networkOf: b.id, init: true }, { runId, service: "side" });
      expect((await side.exec(["wget", "-qO-", "http://localhost:8080/"])).stdout).toBe("from-b\n");
      await Promise.all([a.remove(), b.remove(), side.remove()]);
    } finally {
      await net.remove();
      await net.remove();
    }
  });

  it("fails a probe that never passes with a TimeoutError, leaving no container", async () => {
    const t0 = Date.now();
    const err = await backend
      .run({ image: BUSYBOX, keepAlive: true, health: { kind: "http", port: 8080, timeoutMs: 1_500 } }, { runId, service: "never" })
      .catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toBe("service 'never': health check http :8080/ not ready after 1.5 s");
    expect((err as TimeoutError).hint).toBe("check that the container listens on 8080, or raise health_check.timeout");
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect((err as TimeoutError).timeoutMs).toBe(1_500);
    // start + 1.5 s wait + removal; far below the 60 s default, with room for a busy engine.
    expect(took).toBeLessThan(20_000);
    const { docker } = await import("./helpers.js");
    expect(await docker("ps", "-aq", "--filter", `label=clnrm.run=${runId}`, "--filter", "label=clnrm.service=never")).toBe("");
  });

  it("fails a tcp probe when nothing listens behind the published port", async () => {
    const err = await backend
      .run({ image: BUSYBOX, keepAlive: true, health: { kind: "tcp", port: 8080, timeoutMs: 1_000 } }, { runId, service: "notcp" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it("waits for exec and log probes", async () => {
    const [ex, lg] = await Promise.all([
      backend.run(
        { image: BUSYBOX, command: ["sh", "-c", "sleep 0.3; touch /tmp/ready; sleep 60"], health: { kind: "exec", command: ["test", "-f", "/tmp/ready"] } },
        { runId, service: "exec-probe" },
      ),
      backend.run(
        { image: BUSYBOX, command: ["sh", "-c", "sleep 0.2; echo 'server up'; sleep 60"], health: { kind: "log", pattern: "server\\s+up" } },
        { runId, service: "log-probe" },
      ),
    ]);
    expect((await ex.exec(["ls", "/tmp/ready"])).exitCode).toBe(0);
    expect(await lg.logs()).toContain("server up");
    expect(await ex.probe()).toBe(true);
    expect(await lg.probe()).toBe(true);
    await Promise.all([ex.remove(), lg.remove()]);
  });

  it("reports a missing image in one line", async () => {
    const err = await backend.run({ image: "clnrm-test/does-not-exist:1" }, { runId, service: "missing" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerError);
    const e = err as ContainerError;
    expect(e.message).toMatch(/^image 'clnrm-test\/does-not-exist:1' not found locally and could not be pulled: /);
    expect(e.message).not.toContain("\n");
    expect(e.hint).toBe("build it, or check the name");
  });

  it("applies resources, shm size, capabilities and labels", async () => {
    const c = await backend.run(
      {
        image: ALPINE,
        keepAlive: true,
        resources: { memoryMb: 64, cpus: 0.5, shmSizeMb: 16 },
        capAdd: ["NET_ADMIN"],
        labels: { team: "qa" },
        init: true,
      },
      { runId, service: "res" },
    );
    const { docker } = await import("./helpers.js");
    const hc = JSON.parse(await docker("inspect", "-f", "{{json .HostConfig}}", c.id));
    expect(hc).toMatchObject({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, ShmSize: 16 * 1024 * 1024, CapAdd: ["NET_ADMIN"], Init: true });
    expect(await docker("inspect", "-f", "{{index .Config.Labels \"team\"}}", c.id)).toBe("qa");
    await c.remove();
  });
});
