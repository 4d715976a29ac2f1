import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type NetworkHandle, type PluginLogger, ServiceLifecycle, type ServiceHandle } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugin, { configSchema, surrealQuery } from "../src/index.js";

export const STANDIN = "clnrm-test/surrealdb-standin:latest";
const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures");
const PASS = "Sup3r-s3cret-pw-4711";
const backend = new DockerBackend();
const runId = `sdb-${randomBytes(4).toString("hex")}`;
const logged: string[] = [];
const log: PluginLogger = { progress: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) };
let network: NetworkHandle;

function leftContainers(): string {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

function lifecycle(service: string, config: Record<string, unknown>) {
  const parsed = configSchema.parse({ image: STANDIN, pass: PASS, ...config });
  return new ServiceLifecycle({ service, pluginType: "surrealdb", plugin: plugin.create(parsed, { service, baseDir: fixtures }), timeouts: { startMs: 30_000, healthMs: 10_000 } });
}

async function start(service: string, config: Record<string, unknown>) {
  const lc = lifecycle(service, config);
  const handle = await lc.start({ runId, backend, network, baseDir: fixtures, log, dependencies: {}, services: new Map() });
  return { lc, handle };
}

function target(h: ServiceHandle, pass = PASS) {
  return { url: String(h.outputs.url), user: "root", pass, ns: String(h.outputs.ns), db: String(h.outputs.db) };
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

describe("surrealdb plugin on the stand-in", () => {
  it("starts, sets up ns/db, runs file and inline init scripts, answers queries from the host", async () => {
    const { lc, handle } = await start("db", {
      namespace: "app",
      database: "main",
      init_scripts: ["schema.surql"],
      init: "CREATE person:jaime SET name = 'Jaime', age = 30;",
    });
    try {
      const o = handle.outputs;
      expect(o).toMatchObject({ host: expect.any(String), ns: "app", db: "main", user: "root", internal_url: "http://db:8000" });
      expect(o.url).toBe(`http://${o.host}:${o.port}`);
      expect(JSON.stringify(o)).not.toContain(PASS);
      expect((await lc.healthCheck()).status).toBe("healthy");
      expect((await fetch(`${o.url}/health`)).status).toBe(200);

      const info = await surrealQuery(target(handle), "INFO FOR NS; INFO FOR DB;");
      expect(info.map((r) => r.status)).toEqual(["OK", "OK"]);
      expect(info[0]?.result).toMatchObject({ databases: { main: expect.any(String) } });
      expect(Object.keys((info[1]?.result as { tables?: object } | undefined)?.tables ?? {})).toEqual(["person"]);

      const rows = await surrealQuery(target(handle), "SELECT name, age FROM person WHERE age > 1; SELECT count() FROM person GROUP ALL;");
      expect(rows[0]?.result).toEqual(expect.arrayContaining([{ name: "Tobie", age: 40 }, { name: "Jaime", age: 30 }]));
      expect(rows[1]?.result).toEqual([{ count: 2 }]);

      // Wrong password: the server answers 401, and the error names the user, never the password tried.
      const wrong = "Wr0ng-pass-xyz";
      const res = await fetch(`${o.url}/sql`, { method: "POST", body: "RETURN 1;", headers: { Authorization: `Basic ${Buffer.from(`root:${wrong}`).toString("base64")}` } });
      expect(res.status).toBe(401);
      const err = await surrealQuery(target(handle, wrong), "RETURN 1;").catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/rejected the credentials of user 'root' \(HTTP 401\)/);
      expect((err as Error).message).not.toContain(wrong);
    } finally {
      await lc.stop();
    }
    expect(leftContainers()).toBe("");
  });

  it("a failing init script fails the start with one line naming the file and the statement's error, leaving no container", async () => {
    const lc = lifecycle("bad", { init_scripts: ["broken.surql"] });
    const err = await lc.start({ runId, backend, network, baseDir: fixtures, log, dependencies: {}, services: new Map() }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "CLNRM_ERR_HEALTH" });
    const msg = (err as Error).message;
    expect(msg).toBe("service 'bad': init script 'broken.surql' failed at statement 3: Database record `person:one` already exists");
    expect(msg).not.toContain("\n");
    expect(msg).not.toContain(PASS);
    expect(lc.state).toBe("failed");
    expect(leftContainers()).toBe("");
  });

  it("a parse error in inline init fails the start with the server's message", async () => {
    const lc = lifecycle("bad2", { init: "SELEC nonsense" });
    const err = await lc.start({ runId, backend, network, baseDir: fixtures, log, dependencies: {}, services: new Map() }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^service 'bad2': init script 'init' failed: SurrealDB answered HTTP 400: There was a problem with the database: Parse error: /);
    expect(leftContainers()).toBe("");
  });

  it("a missing init script fails before any container exists", async () => {
    const lc = lifecycle("missing", { init_scripts: ["nope.surql"] });
    const err = await lc.start({ runId, backend, network, baseDir: fixtures, log, dependencies: {}, services: new Map() }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "CLNRM_ERR_VALIDATION", message: "service 'missing': cannot read init script 'nope.surql': ENOENT" });
    expect(leftContainers()).toBe("");
  });

  it("strict mode rejects an undefined table and accepts it once defined", async () => {
    const { lc, handle } = await start("strict", { strict: true });
    try {
      const r = await surrealQuery(target(handle), "CREATE ghost SET a = 1; DEFINE TABLE ghost; CREATE ghost:1 SET a = 1; SELECT * FROM ghost;");
      expect(r.map((x) => x.status)).toEqual(["ERR", "OK", "OK", "OK"]);
      expect(r[0]?.result).toBe("The table 'ghost' does not exist");
      expect(r[3]?.result).toEqual([{ a: 1, id: "ghost:1" }]);
      // Namespaces are not created on the fly either.
      const other = await surrealQuery({ ...target(handle), ns: "other" }, "SELECT * FROM ghost;");
      expect(other[0]).toMatchObject({ status: "ERR", result: "The namespace 'other' does not exist" });
    } finally {
      await lc.stop();
    }
  });
});
