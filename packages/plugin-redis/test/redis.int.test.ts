// Against the local redis:7.0 (tools/test-images/redis: Debian's redis-server, laid out like upstream).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { type NetworkHandle, type PluginLogger, ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { configSchema, RespConnection, RespError, respCommand } from "../src/index.js";

const PASS = "R3dis-s3cret-pw-0815";
const backend = new DockerBackend();
const runId = `redis-${randomBytes(4).toString("hex")}`;
const logged: string[] = [];
const log: PluginLogger = { progress: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) };
let network: NetworkHandle;

function leftContainers(): string {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

function lifecycle(service: string, config: Record<string, unknown>) {
  const parsed = configSchema.parse(config);
  return new ServiceLifecycle({ service, pluginType: "redis", plugin: plugin.create(parsed, { service, baseDir: import.meta.dirname }), timeouts: { startMs: 30_000, healthMs: 10_000 } });
}

async function start(service: string, config: Record<string, unknown>) {
  const lc = lifecycle(service, config);
  const handle = await lc.start({ runId, backend, network, baseDir: import.meta.dirname, log, dependencies: {}, services: new Map() });
  return { lc, handle, target: { host: String(handle.outputs.host), port: Number(handle.outputs.port) } };
}

beforeAll(async () => {
  network = await backend.createNetwork(runId);
});

afterAll(async () => {
  await backend.sweep({ runId });
  await network?.remove();
  expect(leftContainers()).toBe("");
  expect(logged.join("\n")).not.toContain(PASS);
});

describe("redis plugin on redis:7.0", () => {
  it("with a password: refuses no and wrong passwords, ran the init commands, has the databases and append-only file asked for, and is reached by internal_url from another container", async () => {
    const { lc, handle, target } = await start("cache", {
      password: PASS,
      databases: 4,
      append_only: true,
      init: [["SET", "greeting", "hello world"], "RPUSH queue a b c", ["SELECT", 3], ["SET", "in3", 3]],
    });
    try {
      expect(handle.outputs).toEqual({
        url: `redis://default:${PASS}@${target.host}:${target.port}/0`,
        internal_url: `redis://default:${PASS}@cache:6379/0`,
        host: expect.any(String),
        port: expect.any(Number),
      });
      expect((await lc.healthCheck()).status).toBe("healthy");

      // Auth: without a password every command is refused, with a wrong one AUTH itself is.
      await expect(respCommand(target, ["PING"])).rejects.toThrow(/^NOAUTH Authentication required/);
      const wrong = await respCommand({ ...target, password: "not-the-password" }, ["PING"]).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(RespError);
      expect((wrong as Error).message).toMatch(/^WRONGPASS invalid username-password pair/);

      const conn = await RespConnection.open({ ...target, password: PASS });
      try {
        expect(await conn.command(["PING"])).toBe("PONG");
        expect(await conn.command(["GET", "greeting"])).toBe("hello world");
        expect(await conn.command(["LRANGE", "queue", "0", "-1"])).toEqual(["a", "b", "c"]);
        expect(await conn.command(["GET", "in3"])).toBeNull();
        expect(await conn.command(["CONFIG", "GET", "databases"])).toEqual(["databases", "4"]);
        expect(await conn.command(["CONFIG", "GET", "appendonly"])).toEqual(["appendonly", "yes"]);
        expect(await conn.command(["SELECT", "3"])).toBe("OK");
        expect(await conn.command(["GET", "in3"])).toBe("3");
        await expect(conn.command(["SELECT", "4"])).rejects.toThrow(/DB index is out of range/);
      } finally {
        conn.close();
      }
      // Append-only on: Redis 7 keeps its AOF in /data/appendonlydir.
      const aof = await handle.primary?.exec(["ls", "/data/appendonlydir"]);
      expect(aof?.stdout).toMatch(/appendonly\.aof\.\d+\.incr\.aof/);

      // redis-cli in the service's container authenticates from the env the plugin set.
      const local = await handle.primary?.exec(["redis-cli", "GET", "greeting"]);
      expect(local?.stdout.trim()).toBe("hello world");
      // The password is on no command line: Redis replaced its process title.
      const cmdline = await handle.primary?.exec(["cat", "/proc/1/cmdline"]);
      expect(cmdline?.stdout).not.toContain(PASS);

      // Another redis:7.0 container on the run network reaches it by internal_url.
      const other = await backend.run({ image: "redis:7.0", command: ["sleep", "infinity"], init: true }, { runId, service: "probe", network });
      try {
        const pong = await other.exec(["redis-cli", "-u", String(handle.outputs.internal_url), "PING"]);
        expect(pong.stdout.trim()).toBe("PONG");
        const get = await other.exec(["redis-cli", "-u", String(handle.outputs.internal_url), "GET", "greeting"]);
        expect(get.stdout.trim()).toBe("hello world");
        const noauth = await other.exec(["redis-cli", "-u", "redis://cache:6379/0", "PING"]);
        expect(noauth.stdout + noauth.stderr).toMatch(/NOAUTH/);
      } finally {
        await other.remove();
      }
    } finally {
      await lc.stop();
    }
  }, 90_000);

  it("without a password: redis:// url without credentials, 16 databases, no append-only file, healthy until killed", async () => {
    const { lc, handle, target } = await start("plain", {});
    try {
      expect(handle.outputs.url).toBe(`redis://${target.host}:${target.port}/0`);
      expect(handle.outputs.internal_url).toBe("redis://plain:6379/0");
      expect(await respCommand(target, ["PING"])).toBe("PONG");
      expect(await respCommand(target, ["CONFIG", "GET", "databases"])).toEqual(["databases", "16"]);
      expect(await respCommand(target, ["CONFIG", "GET", "appendonly"])).toEqual(["appendonly", "no"]);
      expect((await lc.healthCheck()).status).toBe("healthy");
      await handle.primary?.kill();
      const after = await lc.healthCheck();
      expect(after.status).not.toBe("healthy");
    } finally {
      await lc.stop();
    }
  }, 60_000);

  it("a failing init command fails the start with its number, the command and redis' error, and leaves no container", async () => {
    const lc = lifecycle("broken", { password: PASS, init: [["SET", "k", "v"], "LPUSH k x", "SET never reached"] });
    const err = await lc.start({ runId, backend, network, baseDir: import.meta.dirname, log, dependencies: {}, services: new Map() }).then(
      () => undefined,
      (e: unknown) => e as Error & { hint?: string },
    );
    expect(err?.message).toMatch(/service 'broken': init command 2 `LPUSH k x` failed: WRONGTYPE Operation against a key holding the wrong kind of value/);
    expect(err?.hint).toMatch(/fix init\[1\]/);
    expect(`${err?.message} ${err?.hint}`).not.toContain(PASS);
    expect(lc.state).toBe("failed");
    expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`, "--filter", "label=clnrm.service=broken"], { encoding: "utf8" }).trim()).toBe("");
  }, 60_000);

  it("an unknown command in init is reported with redis' own message", async () => {
    const lc = lifecycle("typo", { init: ["SETT k v"] });
    await expect(lc.start({ runId, backend, network, baseDir: import.meta.dirname, log, dependencies: {}, services: new Map() })).rejects.toThrow(
      /init command 1 `SETT k v` failed: ERR unknown command 'SETT'/,
    );
  }, 60_000);
});
