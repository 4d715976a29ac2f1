import { join } from "node:path";
import { describe, expect, it } from "vitest";
import plugin, { configSchema, DEFAULT_IMAGE, initScripts, postgresUrl, psqlError, READY_COMMAND, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);
const fixtures = join(import.meta.dirname, "fixtures");

describe("postgres ContainerSpec", () => {
  it("defaults: the pinned upstream image, POSTGRES_* env with the password secret, random 5432, tmpfs PGDATA, SELECT 1 over TCP", () => {
    expect(DEFAULT_IMAGE).toBe("postgres:15");
    expect(toContainerSpec(parse({}))).toEqual({
      image: "postgres:15",
      env: { POSTGRES_USER: "postgres", POSTGRES_PASSWORD: "postgres", POSTGRES_DB: "postgres" },
      secretEnv: ["POSTGRES_PASSWORD"],
      ports: [{ container: 5432 }],
      mounts: [{ type: "tmpfs", target: "/var/lib/postgresql/data" }],
      health: {
        kind: "exec",
        command: [
          "sh",
          "-c",
          `PGPASSWORD="$POSTGRES_PASSWORD" exec psql -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc 'SELECT 1'`,
        ],
      },
    });
  });

  it("credentials, database, fixed port and extra env; the password is on no command line", () => {
    const spec = toContainerSpec(parse({ database_name: "app", username: "svc", password: "hunter2-s3cret", port: "15432:5432", env: { TZ: "UTC", N: 1 } }));
    expect(spec.env).toEqual({ TZ: "UTC", N: "1", POSTGRES_USER: "svc", POSTGRES_PASSWORD: "hunter2-s3cret", POSTGRES_DB: "app" });
    expect(spec.ports).toEqual([{ container: 5432, host: 15432 }]);
    expect(JSON.stringify({ ...spec, env: undefined })).not.toContain("hunter2-s3cret");
    expect(spec.health).toEqual({ kind: "exec", command: READY_COMMAND });
    expect(toContainerSpec(parse({ port: 15433 })).ports).toEqual([{ container: 5432, host: 15433 }]);
  });

  it("declares the password secret, the outputs, and the type", () => {
    expect(plugin.type).toBe("postgres");
    expect(plugin.secretFields).toEqual(["password"]);
    expect(plugin.outputs?.(parse({}))).toEqual(["url", "internal_url", "host", "port", "database", "username"]);
  });

  it("schema: database_name or database (not both), database defaults to the username, rejections", () => {
    expect(parse({})).toMatchObject({ image: "postgres:15", username: "postgres", password: "postgres", database: "postgres", init_scripts: [], env: {} });
    expect(parse({ username: "u" }).database).toBe("u");
    expect(parse({ database: "d" }).database).toBe("d");
    expect(parse({ database_name: "d2" })).not.toHaveProperty("database_name");
    const both = configSchema.safeParse({ database: "a", database_name: "b" });
    expect(both.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["database", "'database' and 'database_name' are the same setting: keep one"]]);
    for (const bad of [
      { image: "" },
      { username: "" },
      { password: "" },
      { database: "x".repeat(64) },
      { port: "15432:5433" },
      { port: 70000 },
      { init_scripts: "a.sql" },
      { env: { POSTGRES_PASSWORD: "x" } },
      { env: { POSTGRES_DB: "x" } },
      { user: "x" },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("url: postgres://user:pass@host:port/db, percent-encoded", () => {
    expect(postgresUrl(parse({ username: "app", password: "pw", database: "main" }), "localhost", 32768)).toBe("postgres://app:pw@localhost:32768/main");
    expect(postgresUrl(parse({ username: "a@b", password: "p:w/#", database: "my db" }), "db", 5432)).toBe("postgres://a%40b:p%3Aw%2F%23@db:5432/my%20db");
  });

  it("check: init_scripts that don't exist are reported at their index, relative to the test file", () => {
    const config = parse({ init_scripts: ["schema.sql", "nope.sql", "."] });
    expect(plugin.check?.(config, { service: "db", baseDir: fixtures })).toEqual([
      { path: ["init_scripts", 1], message: `init script 'nope.sql' not found at ${join(fixtures, "nope.sql")}: paths are relative to the test file's directory` },
      { path: ["init_scripts", 2], message: `init script '.' not found at ${fixtures}: paths are relative to the test file's directory` },
    ]);
    expect(plugin.check?.(parse({ init_scripts: ["schema.sql", "seed.sql"] }), { service: "db", baseDir: fixtures })).toEqual([]);
  });

  it("psqlError maps psql's container path and line to the host file", () => {
    const [s] = initScripts(parse({ init_scripts: ["sub/my schema.sql"] }), "/proj");
    expect(s).toEqual({ name: "sub/my schema.sql", hostPath: "/proj/sub/my schema.sql", containerPath: "/tmp/clnrm-init/01-my_schema.sql" });
    const stderr = 'psql:/tmp/clnrm-init/01-my_schema.sql:5: ERROR:  relation "missing_table" does not exist\nLINE 1: INSERT INTO missing_table VALUES (1);\n                    ^\n';
    expect(psqlError(stderr, s as never)).toEqual({ line: 5, message: 'ERROR: relation "missing_table" does not exist' });
    expect(psqlError("psql: error: connection to server failed: FATAL:  password authentication failed", s as never)).toEqual({
      message: "error: connection to server failed: FATAL: password authentication failed",
    });
    expect(psqlError("", s as never)).toBeUndefined();
  });
});
