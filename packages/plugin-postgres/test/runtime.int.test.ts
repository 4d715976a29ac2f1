// Against the local postgres:15: the test build of the real server (tools/test-images/postgres,
// Debian's postgresql-15 under the upstream layout and entrypoint).
import { execFileSync } from "node:child_process";
import { createConnection } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type NetworkHandle, type PluginLogger, ServiceLifecycle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { newRunId } from "@clnrm/plugin-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { configSchema, DEFAULT_IMAGE } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures");
const PASS = "Sup3r-s3cret-pw-4711";
const backend = new DockerBackend();
const runId = newRunId("pg");
const logged: string[] = [];
const log: PluginLogger = { progress: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) };
let network: NetworkHandle;

function leftContainers(): string {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

function lifecycle(service: string, config: Record<string, unknown>) {
  const parsed = configSchema.parse({ password: PASS, ...config });
  return new ServiceLifecycle({ service, pluginType: "postgres", plugin: plugin.create(parsed, { service, baseDir: fixtures }), timeouts: { startMs: 60_000, healthMs: 10_000 } });
}

const startCtx = () => ({ runId, backend, network, baseDir: fixtures, log, dependencies: {}, services: new Map() });

/** A client container on the run network (the same image: it has psql). */
async function client() {
  return backend.run({ image: DEFAULT_IMAGE, entrypoint: ["sleep"], command: ["infinity"] }, { runId, service: "client", network });
}

/** Sends PostgreSQL's SSLRequest to host:port and returns the one-byte answer ('N' or 'S'): the server itself answers on the mapped port. */
function sslProbe(host: string, port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const s = createConnection({ host, port }, () => s.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    s.once("data", (d) => {
      ok(d.subarray(0, 1).toString());
      s.destroy();
    });
    s.once("error", fail);
    s.setTimeout(5_000, () => fail(new Error("no answer")));
  });
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

describe("postgres plugin on postgres:15", () => {
  it("runs the init scripts in order, is healthy, and is reached by internal_url from another container; a wrong password is refused", async () => {
    const lc = lifecycle("db", { database_name: "shop", username: "app", init_scripts: ["schema.sql", "seed.sql"] });
    const handle = await lc.start(startCtx());
    const other = await client();
    try {
      const o = handle.outputs;
      expect(o).toEqual({
        url: `postgres://app:${PASS}@${o.host}:${o.port}/shop`,
        internal_url: `postgres://app:${PASS}@db:5432/shop`,
        host: expect.any(String),
        port: expect.any(Number),
        database: "shop",
        username: "app",
      });
      expect(logged).toEqual(expect.arrayContaining(["running init script schema.sql", "running init script seed.sql"]));
      expect((await lc.healthCheck()).status).toBe("healthy");
      expect(await sslProbe(String(o.host), Number(o.port))).toBe("N");

      // Both scripts ran, in order (seed.sql inserts into the table schema.sql creates).
      const q = await other.exec(["psql", "-X", "-tA", String(o.internal_url), "-c", "SELECT string_agg(name, ',' ORDER BY id) FROM person"]);
      expect(q).toMatchObject({ exitCode: 0, stdout: "Tobie,Jaime\n" });
      const who = await other.exec(["psql", "-X", "-tA", String(o.internal_url), "-c", "SELECT current_user || '@' || current_database()"]);
      expect(who.stdout).toBe("app@shop\n");

      // Auth is real: the same url with another password is refused by the server.
      const wrong = String(o.internal_url).replace(PASS, "Wr0ng-pass-xyz");
      const bad = await other.exec(["psql", "-X", "-w", wrong, "-c", "SELECT 1"]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/FATAL: {2}password authentication failed for user "app"/);

      // Health is a real query: a server that stops answering (here: the role's login is revoked) is unhealthy.
      await other.exec(["psql", "-X", String(o.internal_url), "-c", "ALTER ROLE app PASSWORD 'changed-pw-000'"]);
      const h = await lc.healthCheck();
      expect(h.status).not.toBe("healthy");
      expect(JSON.stringify(h)).toMatch(/password authentication failed/);
      expect(JSON.stringify(h)).not.toContain(PASS);
    } finally {
      await other.remove();
      await lc.stop();
    }
    expect(leftContainers()).toBe("");
  });

  it("a failing statement fails the start with the host file, line and server message, leaving no container", async () => {
    const lc = lifecycle("bad", { init_scripts: ["schema.sql", "broken.sql"] });
    const err = await lc.start(startCtx()).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "CLNRM_ERR_HEALTH", hint: "fix the SQL in 'broken.sql'" });
    const msg = (err as Error).message;
    expect(msg).toBe(`service 'bad': init script failed at ${join(fixtures, "broken.sql")}:5: ERROR: relation "missing_table" does not exist`);
    expect(msg).not.toContain(PASS);
    expect(lc.state).toBe("failed");
    expect(leftContainers()).toBe("");
  });

  it("a missing init script fails before any container exists", async () => {
    const lc = lifecycle("missing", { init_scripts: ["nope.sql"] });
    const err = await lc.start(startCtx()).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "CLNRM_ERR_VALIDATION", message: `service 'missing': cannot read init script 'nope.sql' (${join(fixtures, "nope.sql")}): ENOENT` });
    expect(leftContainers()).toBe("");
  });
});
