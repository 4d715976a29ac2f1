import { describe, expect, it } from "vitest";
import plugin, { configSchema, DEFAULT_IMAGE, firstError, scrub, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);

describe("surrealdb ContainerSpec", () => {
  it("defaults: the pinned real image, /surreal start, random port 8000, /health probe, password only in secret env", () => {
    expect(DEFAULT_IMAGE).toBe("surrealdb/surrealdb:v2.3.10");
    expect(toContainerSpec(parse({}))).toEqual({
      image: "surrealdb/surrealdb:v2.3.10",
      entrypoint: ["/surreal"],
      command: ["start", "--log", "info", "--user", "root", "--bind", "0.0.0.0:8000", "memory"],
      env: { SURREAL_PASS: "root" },
      secretEnv: ["SURREAL_PASS"],
      ports: [{ container: 8000 }],
      health: { kind: "http", port: 8000, path: "/health", status: 200 },
    });
  });

  it("strict, fixed port, env and custom credentials", () => {
    const spec = toContainerSpec(parse({ user: "admin", pass: "hunter2-s3cret", strict: true, port: "18000:8000", env: { SURREAL_LOG: "debug", N: 1 } }));
    expect(spec.command).toEqual(["start", "--log", "info", "--user", "admin", "--bind", "0.0.0.0:8000", "--strict", "memory"]);
    expect(spec.ports).toEqual([{ container: 8000, host: 18000 }]);
    expect(spec.env).toEqual({ SURREAL_LOG: "debug", N: "1", SURREAL_PASS: "hunter2-s3cret" });
    expect(spec.secretEnv).toEqual(["SURREAL_PASS"]);
    expect(JSON.stringify(spec.command)).not.toContain("hunter2-s3cret");
    expect(toContainerSpec(parse({ port: 18001 })).ports).toEqual([{ container: 8000, host: 18001 }]);
  });

  it("declares both spellings of the password as secret fields", () => {
    expect(plugin.secretFields).toEqual(["auth.pass", "pass"]);
    expect(plugin.type).toBe("surrealdb");
  });

  it("schema defaults and rejections", () => {
    expect(parse({})).toMatchObject({ user: "root", pass: "root", namespace: "test", database: "test", strict: false, init_scripts: [], env: {} });
    for (const bad of [
      { ns: "x" },
      { namespace: "bad-name" },
      { database: "1x" },
      { port: "18000:9000" },
      { port: 70000 },
      { strict: "yes" },
      { user: "a:b" },
      { pass: "" },
      { env: { SURREAL_PASS: "x" } },
      { init_scripts: "a.surql" },
      { startup_timeout: "10s" },
    ]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("the spec's spelling: auth.user / auth.pass (PLUGIN-001 example table), the flat one still accepted", () => {
    // test/fixtures/spec/surrealdb-example.clnrm.toml's [services.database], as TOML parses it.
    const c = parse({ image: "clnrm-test/surrealdb-standin:latest", auth: { user: "root", pass: "root" }, namespace: "test", database: "test", strict: true });
    expect(c).toMatchObject({ user: "root", pass: "root", namespace: "test", database: "test", strict: true });
    expect(c).not.toHaveProperty("auth");
    expect(toContainerSpec(c).command).toEqual(["start", "--log", "info", "--user", "root", "--bind", "0.0.0.0:8000", "--strict", "memory"]);
    const nested = toContainerSpec(parse({ auth: { user: "admin", pass: "s3cret-pw" } }));
    expect(nested.command).toContain("admin");
    expect(nested.env).toEqual({ SURREAL_PASS: "s3cret-pw" });
    expect(parse({ user: "admin", pass: "s3cret-pw" })).toMatchObject({ user: "admin", pass: "s3cret-pw" });
    expect(parse({ auth: { user: "admin" } })).toMatchObject({ user: "admin", pass: "root" });
  });

  it("both spellings of one key: a 'same setting' error naming the one to keep; unknown auth keys are refused", () => {
    const r = configSchema.safeParse({ user: "a", auth: { user: "b" } });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["user", "'user' and 'auth.user' are the same setting: keep 'auth.user'"]]);
    const both = configSchema.safeParse({ user: "a", pass: "p1", auth: { user: "b", pass: "p2" } });
    expect(both.error?.issues.map((i) => i.path.join("."))).toEqual(["user", "pass"]);
    for (const bad of [{ auth: { username: "x" } }, { auth: { user: "a:b" } }, { auth: { pass: "" } }, { auth: "root" }]) {
      expect(configSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("scrub and firstError", () => {
    expect(scrub("pw=abc; abc", "abc")).toBe("pw=***; ***");
    expect(firstError([{ status: "OK", result: null }, { status: "ERR", result: "The table 'x' does not exist" }])).toEqual({ index: 2, message: "The table 'x' does not exist" });
    expect(firstError([{ status: "OK", result: 1 }])).toBeUndefined();
  });
});
