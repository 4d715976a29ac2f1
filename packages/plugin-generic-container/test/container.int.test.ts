import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NetworkHandle, type ServiceHandle, ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin from "../src/index.js";

// Integration tests against the real Docker engine (no mocks).
const backend = new DockerBackend();
const runId = `gc-${randomBytes(4).toString("hex")}`;
const quiet = { progress() {}, warn() {}, debug() {} };
let network: NetworkHandle;
const lifecycles: ServiceLifecycle[] = [];
const baseDir = mkdtempSync(join(tmpdir(), "clnrm-gc-"));

async function start(service: string, config: Record<string, unknown>, startMs = 30_000): Promise<ServiceHandle> {
  const def = plugin;
  const lc = new ServiceLifecycle({
    service,
    pluginType: def.type,
    plugin: def.create(def.configSchema.parse(config), { service, baseDir }),
    timeouts: { startMs, healthMs: startMs },
  });
  lifecycles.push(lc);
  return lc.start({ runId, backend, network, baseDir, log: quiet, dependencies: {}, services: new Map() });
}

function containersOfRun(): string[] {
  return execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).split("\n").filter(Boolean);
}

beforeAll(async () => {
  network = await backend.createNetwork(runId);
  writeFileSync(join(baseDir, "greeting.txt"), "hello from the host\n");
});

afterAll(async () => {
  await Promise.all(lifecycles.map((l) => l.stop()));
  await network.remove();
  await backend.sweep({ runId });
  rmSync(baseDir, { recursive: true, force: true });
  expect(containersOfRun()).toEqual([]);
});

describe("generic_container on Docker", () => {
  it("keeps a bare-shell image (alpine) up so steps can exec in it", async () => {
    const h = await start("shell", { image: "alpine:latest" });
    const r = await h.primary!.exec(["echo", "hello"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "hello\n" });
  });

  it("maps ports reachable from the host, with outputs", async () => {
    const h = await start("web", {
      image: "clnrm-test/busybox:latest",
      command: "mkdir -p /www && echo served-by-busybox > /www/index.html && exec httpd -f -p 8080 -h /www",
      ports: ["8080"],
      health_check: { type: "http", port: 8080, path: "/index.html" },
    });
    expect(h.outputs.port).toBe(h.primary!.mappedPort(8080));
    expect(h.outputs.url).toBe(`http://${h.outputs.host}:${h.outputs.port}`);
    const body = await (await fetch(`${h.outputs.url}/index.html`)).text();
    expect(body).toBe("served-by-busybox\n");
  });

  it("passes env into the container", async () => {
    const h = await start("env", { image: "alpine:latest", env: { GREETING: "bonjour", COUNT: 3 } });
    const r = await h.primary!.exec(["sh", "-c", 'echo "$GREETING $COUNT"']);
    expect(r.stdout).toBe("bonjour 3\n");
  });

  it("mounts volumes (relative to the test file) and honours :ro", async () => {
    const h = await start("vol", { image: "alpine:latest", volumes: ["./greeting.txt:/data/greeting.txt:ro", `${baseDir}:/rw`] });
    expect((await h.primary!.exec(["cat", "/data/greeting.txt"])).stdout).toBe("hello from the host\n");
    const denied = await h.primary!.exec(["sh", "-c", "echo x > /data/greeting.txt"]);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/Read-only file system/);
    expect((await h.primary!.exec(["sh", "-c", "echo written > /rw/out.txt"])).exitCode).toBe(0);
    expect(execFileSync("cat", [join(baseDir, "out.txt")], { encoding: "utf8" })).toBe("written\n");
  });

  it("overrides the command", async () => {
    const h = await start("cmd", { image: "alpine:latest", command: ["sh", "-c", "echo started > /tmp/marker; exec sleep 300"] });
    expect((await h.primary!.exec(["cat", "/tmp/marker"])).stdout).toBe("started\n");
  });

  it("reaches other services by name and alias on the run network", async () => {
    await start("api", {
      image: "clnrm-test/busybox:latest",
      command: "mkdir -p /www && echo api-ok > /www/index.html && exec httpd -f -p 8080 -h /www",
      network: { aliases: ["backend"] },
      health_check: { type: "tcp", port: 8080 },
    });
    const client = await start("client", { image: "alpine:latest" });
    for (const host of ["api", "backend"]) {
      const r = await client.primary!.exec(["wget", "-qO-", `http://${host}:8080/index.html`]);
      expect(r.stdout, host).toBe("api-ok\n");
    }
  });

  it("fails a health check on a container that never listens with a clear timeout error, leaving nothing", async () => {
    const before = containersOfRun().length;
    const started = Date.now();
    const err = await start("deaf", { image: "alpine:latest", health_check: { type: "http", port: 9999, timeout: "2s" } }, 20_000).catch((e) => e);
    expect(err.code).toBe("CLNRM_ERR_TIMEOUT");
    expect(err.message).toMatch(/deaf/);
    expect(err.message).toMatch(/9999/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(containersOfRun().length).toBe(before);
  });

  it("reports a container that exits during its health wait with its exit code and last log line", async () => {
    const err = await start("quitter", { image: "alpine:latest", command: ["sh", "-c", "echo bye; exit 3"], health_check: { type: "tcp", port: 8080 } }, 20_000).catch((e) => e);
    expect(err.code).toBe("CLNRM_ERR_CONTAINER_EXITED");
    expect(err.message).toMatch(/exited with code 3/);
    expect(err.message).toMatch(/bye/);
  });

  it("a running service whose command exits later is reported failed by its health check, with exit code and logs", async () => {
    // The command waits for a file, so the exit happens after start, whatever the machine's load.
    const h = await start("late-quitter", { image: "alpine:latest", keep_alive: false, command: ["sh", "-c", "echo bye; until [ -f /tmp/go ]; do sleep 0.1; done; exit 3"] });
    const lc = lifecycles.at(-1)!;
    expect((await lc.healthCheck()).status).toBe("healthy");
    await h.primary!.exec(["touch", "/tmp/go"]);
    for (let i = 0; i < 100 && (await h.primary!.state()).running; i++) await new Promise((r) => setTimeout(r, 100));
    const health = await lc.healthCheck();
    expect(health.status).toBe("unhealthy");
    expect(health.reason).toMatch(/exited with code 3/);
    expect(health.reason).toMatch(/bye/);
    expect(health.final).toBe(true);
  });

  it("reports a missing image in one line", async () => {
    const err = await start("ghost", { image: "clnrm-test/does-not-exist:1.0" }).catch((e) => e);
    expect(err.code).toBe("CLNRM_ERR_IMAGE_NOT_FOUND");
    expect(err.message).toContain("clnrm-test/does-not-exist:1.0");
    expect(err.message).not.toContain("\n");
  });
});
