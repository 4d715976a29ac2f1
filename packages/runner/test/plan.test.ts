import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearSecrets, REDACTED, redact, type ValidationError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument, planTest, registerPlanSecrets, startWaves } from "../src/index.js";

// Files are written under this package so that plugins resolve from the workspace's node_modules,
// exactly as they would from a user's project.
const dir = mkdtempSync(join(import.meta.dirname, ".tmp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(source: string): string {
  const f = join(dir, `t${n++}.clnrm.toml`);
  writeFileSync(f, source);
  return f;
}

async function planError(source: string): Promise<ValidationError> {
  const err = await planTest(file(source)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a validation error").toBeInstanceOf(Error);
  return err as ValidationError;
}

const svc = (name: string, extra = "") => `[services.${name}]\ntype = "generic_container"\nimage = "alpine:latest"\n${extra}\n`;

describe("planTest", () => {
  it("plans the seed file: one service, one step", async () => {
    const plan = await planTest(file(`${svc("test")}[[steps]]\nname = "echo"\nservice = "test"\ncommand = ["echo", "hello"]\n`));
    expect([...plan.services.keys()]).toEqual(["test"]);
    expect(plan.services.get("test")?.plugin.package).toBe("@clnrm/plugin-generic-container");
    expect(plan.waves).toEqual([["test"]]);
    expect(plan.steps[0]).toMatchObject({ name: "echo", service: "test", command: ["echo", "hello"], expected_exit_code: 0, timeout: 60_000 });
  });

  it("orders services by depends_on and references, independent ones in one wave", async () => {
    const plan = await planTest(
      file(
        svc("db") +
          svc("cache") +
          svc("api", 'depends_on = ["cache"]\nenv = { DB_URL = "http://${services.db.host}:8000" }') +
          svc("web", 'depends_on = ["api"]'),
      ),
    );
    expect(plan.waves).toEqual([["cache", "db"], ["api"], ["web"]]);
    expect([...plan.services.get("api")!.dependsOn].sort()).toEqual(["cache", "db"]);
  });

  it("rejects a cycle and prints it", async () => {
    const err = await planError(svc("a", 'depends_on = ["b"]') + svc("b", 'depends_on = ["c"]') + svc("c", 'depends_on = ["a"]'));
    expect(err.code).toBe("CLNRM_ERR_VALIDATION");
    expect(err.message).toBe("dependency cycle: a → b → c → a");
    expect(err.location?.line).toBe(1);
  });

  it("rejects a depends_on on an unknown service with did-you-mean and position", async () => {
    const err = await planError(svc("database") + svc("api", 'depends_on = ["databse"]'));
    expect(err.format()).toMatch(/t\d+\.clnrm\.toml:8:\d+: services\.api\.depends_on: no service named 'databse' \(did you mean 'database'\?\)/);
  });

  it("rejects a reference to an unknown service", async () => {
    const err = await planError(svc("api", 'env = { X = "${services.nope.url}" }'));
    expect(err.message).toContain("no service named 'nope'");
    expect(err.location?.line).toBe(4);
  });

  it("rejects a step in an unknown service", async () => {
    const err = await planError(`${svc("test")}[[steps]]\nname = "x"\nservice = "tset"\ncommand = "true"\n`);
    expect(err.format()).toMatch(/:7:1: steps\[0\]\.service: no service named 'tset' \(did you mean 'test'\?\)/);
  });

  it("points at an unknown plugin config key with did-you-mean", async () => {
    const err = await planError('[services.test]\ntype = "generic_container"\nimgae = "alpine"\n');
    expect(err.format()).toMatch(/:3:1: services\.test\.imgae: unknown key 'imgae' \(did you mean 'image'\?\)$/);
  });

  it("rejects a bad port and an empty image at their lines", async () => {
    expect((await planError(svc("t", 'ports = ["8080", "99999"]'))).format()).toMatch(/:4:18: services\.t\.ports\[1\]: invalid port mapping "99999"/);
    expect((await planError('[services.t]\ntype = "generic_container"\nimage = ""\n')).format()).toMatch(/:3:1: services\.t\.image: image must not be empty/);
  });

  it("rejects unknown step keys, bad regexes and bad durations", async () => {
    const base = `${svc("t")}[[steps]]\nname = "s"\nservice = "t"\ncommand = "true"\n`;
    expect((await planError(`${base}expected_outptu_regex = "x"\n`)).message).toContain("did you mean 'expected_output_regex'?");
    expect((await planError(`${base}expected_output_regex = "(("\n`)).message).toMatch(/invalid regular expression "\(\(": missing closing \)$/);
    expect((await planError(`${base}timeout = "soon"\n`)).message).toContain('invalid duration "soon"');
  });

  it("reports an unknown plugin type with candidates and a suggestion", async () => {
    const err = await planError('[services.llm]\ntype = "olama"\n');
    expect(err.code).toBe("CLNRM_ERR_PLUGIN_NOT_FOUND");
    expect(err.location?.line).toBe(2);
    expect(err.format()).toContain("did you mean 'ollama'?");
  });

  it("refuses a path or URL as a type without importing it", async () => {
    for (const t of ["./evil.js", "/tmp/x", "https://example.com/p.js", "file:///etc/passwd"]) {
      const err = await planError(`[services.x]\ntype = "${t}"\n`);
      expect(err.code, t).toBe("CLNRM_ERR_VALIDATION");
    }
  });
});

describe("parseDocument", () => {
  it("reports TOML syntax errors with line and column", () => {
    const formatted = (src: string) => {
      try {
        parseDocument(src, "/x/bad.clnrm.toml");
      } catch (e) {
        return (e as ValidationError).format();
      }
      return "no error";
    };
    expect(formatted("[services.t]\ntype = \n")).toMatch(/^\/x\/bad\.clnrm\.toml:2:\d+: TOML syntax error: /);
    expect(formatted('[services.t]\na = "unterminated\n')).toMatch(/^\/x\/bad\.clnrm\.toml:2:\d+: TOML syntax error: /);
    expect(formatted("[a]\nx = 1\n[a]\n")).toMatch(/^\/x\/bad\.clnrm\.toml:3:\d+: TOML syntax error: /);
  });

  it("refuses binary content and huge files", () => {
    expect(() => parseDocument(Buffer.from([0x5b, 0x00, 0xff, 0x10]), "/x/bin.clnrm.toml")).toThrow(/not UTF-8 text/);
    expect(() => parseDocument(`# ${"x".repeat(1024 * 1024 + 10)}`, "/x/huge.clnrm.toml")).toThrow(/limited to 1 MiB/);
  });

  it("locates nested keys in inline tables and arrays of tables", () => {
    const doc = parseDocument('[services.a]\nenv = { X = "1", Y = "2" }\n\n[[steps]]\nname = "one"\n\n[[steps]]\nname = "two"\n', "/x/f.clnrm.toml");
    expect(doc.locate(["services", "a", "env", "Y"])).toEqual({ file: "/x/f.clnrm.toml", line: 2, column: 18 });
    expect(doc.locate(["steps", 1, "name"])).toMatchObject({ line: 8, column: 1 });
    expect(doc.locate(["steps", 1, "nope"])).toMatchObject({ line: 7 });
  });
});

describe("startWaves", () => {
  it("is deterministic and rejects self-cycles via the cycle path", () => {
    const g = new Map([
      ["b", { dependsOn: [] }],
      ["a", { dependsOn: [] }],
      ["c", { dependsOn: ["a", "b"] }],
    ]);
    expect(startWaves(g)).toEqual([["a", "b"], ["c"]]);
    expect(() => startWaves(new Map([["x", { dependsOn: ["y"] }], ["y", { dependsOn: ["x"] }]]))).toThrow("dependency cycle: x → y → x");
  });
});


describe("sensitive relative mounts", () => {
  // HOME points at the files' directory, so that `./.ssh` from a test file is ~/.ssh while the
  // same path from the cwd (this package) is not: the plugin's own schema sees only the cwd.
  const withHome = async <T>(fn: () => Promise<T>): Promise<T> => {
    const saved = process.env.HOME;
    process.env.HOME = dir;
    try {
      return await fn();
    } finally {
      process.env.HOME = saved;
    }
  };

  it("resolves a relative bind source from the test file's directory, and refuses ~/.ssh with its position", async () => {
    mkdirSync(join(dir, ".ssh"), { recursive: true });
    mkdirSync(join(dir, "fixtures"), { recursive: true });
    const err = await withHome(() => planError(svc("app", 'volumes = ["./fixtures:/f", "./.ssh:/keys:ro"]')));
    expect(err.message).toBe(`services.app.volumes[1]: "./.ssh" (resolves to ${dir}/.ssh) is credentials in a home directory (${dir}/.ssh); mounting it needs allow_sensitive_mounts = true`);
    expect(err.location).toMatchObject({ line: 4 });
  });

  it("allow_sensitive_mounts = true lets it through", async () => {
    const plan = await withHome(() => planTest(file(svc("app", 'volumes = ["./.ssh:/keys:ro"]\nallow_sensitive_mounts = true'))));
    expect(plan.services.get("app")?.raw).toMatchObject({ allow_sensitive_mounts: true });
  });
});

describe("nested plugin keys (the spec's dotted spellings)", () => {
  it("an unknown key inside a plugin's table gets a did-you-mean from that table's keys", async () => {
    const err = await planError('[services.db]\ntype = "surrealdb"\nauth.user = "root"\nauth.pss = "root"\n');
    expect(err.message).toBe("services.db.auth.pss: unknown key 'pss' (did you mean 'pass'?)");
    expect(err.location?.line).toBe(4);
    const chaos = await planError(`${svc("api")}[services.chaos]\ntype = "chaos_engine"\nchaos.network.latency = 100\n`);
    expect(chaos.message.split("\n")[0]).toBe("services.chaos.chaos.network.latency: unknown key 'latency' (did you mean 'latency_ms'?)");
  });

  it("a dotted secret field (auth.pass) is in the plan's secrets; planning registers nothing, registerPlanSecrets does", async () => {
    clearSecrets();
    const plan = await planTest(file('[services.db]\ntype = "surrealdb"\nauth.pass = "hunter2-dotted"\nenv = { API_TOKEN = "tok-123", PLAIN = "visible" }\n'));
    expect([...plan.secrets].sort()).toEqual(["hunter2-dotted", "tok-123"]);
    expect(redact("pw is hunter2-dotted")).toBe("pw is hunter2-dotted");
    registerPlanSecrets(plan);
    expect(redact("pw is hunter2-dotted, token tok-123, visible")).toBe(`pw is ${REDACTED}, token ${REDACTED}, visible`);
    clearSecrets();
  });
});
