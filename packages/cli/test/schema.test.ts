// `clnrm schema` and what an editor makes of its output: the real taplo (@taplo/cli, the engine of
// Even Better TOML) lints test files against the generated schema. Nothing here needs Docker.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = resolve(import.meta.dirname, "../dist/bin.js");
const REPO = resolve(import.meta.dirname, "../../..");
const TAPLO = join(REPO, "node_modules/.bin/taplo");
const FIXTURES = join(import.meta.dirname, "schema-fixtures");

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(import.meta.dirname, ".tmp-schema-"));
  dirs.push(dir);
  return dir;
}

/** Runs a program to the end without blocking the event loop (taplo can take seconds on a busy machine). */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(file, args, { cwd, encoding: "utf8", env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
    });
  });
}

const clnrm = (cwd: string, ...args: string[]) => run(process.execPath, [BIN, ...args], cwd, { NO_COLOR: "1" });

interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** `taplo lint --schema` over files: its exit code and each diagnostic (message and where). */
async function taplo(schemaFile: string, files: string[], cwd = REPO): Promise<{ code: number | null; diagnostics: Diagnostic[]; output: string }> {
  const r = await run(TAPLO, ["lint", "--no-auto-config", "--colors", "never", "--schema", pathToFileURL(schemaFile).href, ...files], cwd);
  const output = `${r.stdout}${r.stderr}`;
  const diagnostics: Diagnostic[] = [];
  // error: MESSAGE
  //   ┌─ FILE:LINE:COL
  for (const m of output.matchAll(/^error: (.*)\n\s*┌─ (.*):(\d+):(\d+)$/gm)) {
    diagnostics.push({ message: m[1]!, file: m[2]!, line: Number(m[3]), col: Number(m[4]) });
  }
  return { code: r.code, diagnostics, output };
}

/** Distinct `line: message` of a file's diagnostics (taplo reports an array value once per range, all on its line). */
const byLine = (ds: Diagnostic[]): string[] => [...new Set([...ds].sort((a, b) => a.line - b.line || a.col - b.col).map((d) => `${d.line}: ${d.message}`))];

let schemaFile: string;
type Branch = { properties: Record<string, { description?: string } & Record<string, unknown>> };
let schema: {
  definitions: Record<string, Branch>;
  properties: { services: { additionalProperties: { allOf: { if?: { properties: { type: { const: string } } }; then: { $ref: string } }[]; anyOf: unknown[] } } };
};
const deref = (ref: string | undefined): Branch | undefined => (ref ? schema.definitions[ref.replace("#/definitions/", "")] : undefined);
/** The schema a service table of this type is checked against. */
const branch = (type: string) => deref(schema.properties.services.additionalProperties.allOf.find((b) => b.if?.properties?.type?.const === type)?.then.$ref);

beforeAll(async () => {
  const dir = scratch();
  schemaFile = join(dir, "clnrm.schema.json");
  const r = await clnrm(REPO, "schema", "--output", schemaFile);
  expect(r.code, r.stderr).toBe(0);
  schema = JSON.parse(readFileSync(schemaFile, "utf8"));
});

describe("clnrm schema", () => {
  it("prints the schema on stdout, and -o / --output write the same text to a file", async () => {
    const dir = scratch();
    const out = await clnrm(REPO, "schema");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout).$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(readFileSync(schemaFile, "utf8")).toBe(out.stdout);
    const short = await clnrm(REPO, "schema", "-o", join(dir, "short.json"));
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toBe("");
    expect(readFileSync(join(dir, "short.json"), "utf8")).toBe(out.stdout);
  });

  it("refuses an --output it can't write with one line and exit 2", async () => {
    const dir = scratch();
    const missing = await clnrm(REPO, "schema", "--output", join(dir, "no/such/dir/schema.json"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: can't write the schema to ${join(dir, "no/such/dir/schema.json")}: its directory does not exist (pass --output a file path in an existing directory)\n`);
    expect(missing.stderr).not.toContain("    at ");
    const isDir = await clnrm(REPO, "schema", "--output", dir);
    expect(isDir.code).toBe(2);
    expect(isDir.stderr).toContain(`can't write the schema to ${dir}: it is a directory`);
  });

  it("gives each plugin's keys its zod description and default", () => {
    const surreal = branch("surrealdb");
    expect(surreal, "a surrealdb branch").toBeDefined();
    expect(surreal!.properties.strict).toMatchObject({ type: "boolean", default: false, description: expect.stringContaining("--strict") });
    expect(surreal!.properties.namespace).toMatchObject({ default: expect.any(String), description: expect.any(String) });
    expect(surreal!.properties.depends_on).toMatchObject({ default: [], description: expect.any(String) });
    for (const type of ["chaos_engine", "generic_container", "ollama", "otel_collector", "surrealdb", "tgi", "vllm"]) {
      const b = branch(type);
      expect(b, type).toBeDefined();
      const undocumented = Object.entries(b!.properties).filter(([, v]) => typeof v.description !== "string").map(([k]) => k);
      expect(undocumented, `${type} keys without a description`).toEqual([]);
    }
  });
});

describe("taplo lint with the generated schema", () => {
  // taplo's completion and hover walk $ref/anyOf/oneOf/allOf/properties but not if/then (crates/taplo-common/src/schema/mod.rs,
  // collect_schemas and collect_child_schemas): the plugin schemas are listed under an anyOf that `{}` always satisfies.
  it("lists every plugin key once where the editor's completion looks, labelled, without checking anything there", () => {
    const { anyOf } = schema.properties.services.additionalProperties;
    expect(anyOf[0]).toEqual({});
    const keys = (anyOf[1] as { properties: Record<string, { description: string; default?: unknown; enum?: unknown[] }> }).properties;
    expect(keys.namespace).toMatchObject({ default: "test", description: `${branch("surrealdb")!.properties.namespace!.description}\n\n*surrealdb*` });
    expect(keys.mode).toMatchObject({ enum: ["auto", "netem", "proxy"], description: expect.stringMatching(/\n\n\*chaos_engine\*$/) });
    expect(keys.image!.description).toContain(`*generic_container*: ${branch("generic_container")!.properties.image!.description}`);
    expect(keys.image!.description).toContain(`*surrealdb*: ${branch("surrealdb")!.properties.image!.description}`);
    expect(keys.depends_on!.description).toBe("Services that must be ready before this one starts."); // not labelled: every service takes it
    expect(keys.type!.enum).toEqual(expect.arrayContaining(["generic_container", "surrealdb"]));
  });

  it("accepts every example and spec fixture in the repository", async () => {
    const files = execFileSync("git", ["ls-files", "examples/*.clnrm.toml", "examples/**/*.clnrm.toml", "packages/plugin-*/examples/*.clnrm.toml", "packages/plugin-*/test/fixtures/spec/*.clnrm.toml"], { cwd: REPO, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(15);
    const r = await taplo(schemaFile, files);
    expect(r.diagnostics).toEqual([]);
    expect(r.code, r.output).toBe(0);
  });

  // Each broken file: the one error taplo reports for it, as `line: message`.
  const broken: Record<string, string[]> = {
    "surrealdb-usr.clnrm.toml": [expect.stringMatching(/^7: "no such key in a surrealdb service \(its keys: .*\buser, pass\b.*\)" was expected$/)],
    "generic-portz.clnrm.toml": [expect.stringMatching(/^5: "no such key in a generic_container service \(its keys: .*\bports\b.*\)" was expected$/)],
    "wrong-value-type.clnrm.toml": ['4: "yes" is not of type "boolean"', '5: "3" is not of type "integer"'],
    "unknown-type.clnrm.toml": [expect.stringMatching(/^3: "surealdb" is not one of \[.*"generic_container".*"surrealdb".*\]$/)],
    "other-plugins-key.clnrm.toml": [
      expect.stringMatching(/^4: "no such key in a surrealdb service/),
      '5: "no such key in auth of a surrealdb service (its keys: user, pass)" was expected',
    ],
    "step-and-meta-keys.clnrm.toml": [
      '3: "no such key in meta (its keys: name, description, tags, timeout)" was expected',
      expect.stringMatching(/^8: "no such key in steps\[\] \(its keys: name, service, .*retries.*\)" was expected$/),
    ],
  };
  let lint: Awaited<ReturnType<typeof taplo>>;
  beforeAll(async () => {
    lint = await taplo(schemaFile, Object.keys(broken).map((f) => join(FIXTURES, "broken", f)));
  });
  it.each(Object.entries(broken))("reports %s at the bad key's line, once", (file, expected) => {
    expect(lint.code, lint.output).not.toBe(0);
    expect(byLine(lint.diagnostics.filter((d) => d.file === join(FIXTURES, "broken", file)))).toEqual(expected);
  });

  it("a scalar value under a misspelled key gives exactly one diagnostic (not one per line of the table)", () => {
    const usr = lint.diagnostics.filter((d) => d.file === join(FIXTURES, "broken", "surrealdb-usr.clnrm.toml"));
    expect(usr.map((d) => `${d.line}:${d.col}`)).toEqual(["7:7"]);
  });
});

describe("third-party plugins", () => {
  it("get their own branch from their zod schema: descriptions, defaults, unknown keys at their line", async () => {
    const dir = scratch();
    const pkgDir = join(dir, "node_modules/clnrm-plugin-hello");
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", private: true, devDependencies: { "clnrm-plugin-hello": "1.0.0" } }));
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: "clnrm-plugin-hello", version: "1.0.0", type: "module", main: "index.js", keywords: ["clnrm-plugin"], clnrm: { types: ["hello"], apiVersion: 1 } }));
    // @clnrm/core resolves from packages/cli/node_modules, as a plugin's peer dependency would.
    writeFileSync(
      join(pkgDir, "index.js"),
      `import { definePlugin, z } from "@clnrm/core";
export default definePlugin({
  type: "hello",
  description: "says hello",
  configSchema: z.strictObject({
    greeting: z.string().default("hi").describe("What the service says"),
    times: z.number().int().min(1).optional().describe("How often"),
  }),
  create() { throw new Error("not started in this test"); },
});
`,
    );
    const out = join(dir, "schema.json");
    const r = await clnrm(dir, "schema", "-o", out);
    expect(r.code, r.stderr).toBe(0);
    schema = JSON.parse(readFileSync(out, "utf8"));
    expect(branch("hello")?.properties.greeting).toEqual({ type: "string", default: "hi", description: "What the service says" });
    expect(branch("hello")?.properties.type).toMatchObject({ const: "hello", description: "clnrm-plugin-hello@1.0.0: says hello" });

    writeFileSync(join(dir, "good.clnrm.toml"), '[services.h]\ntype = "hello"\ngreeting = "hey"\ntimes = 2\n');
    writeFileSync(join(dir, "bad.clnrm.toml"), '[services.h]\ntype = "hello"\ngreting = "hey"\ntimes = 0\n');
    const good = await taplo(out, ["good.clnrm.toml"], dir);
    expect(good.code, good.output).toBe(0);
    const bad = await taplo(out, ["bad.clnrm.toml"], dir);
    expect(byLine(bad.diagnostics)).toEqual(['3: "no such key in a hello service (its keys: type, package, depends_on, startup_timeout, start_attempts, greeting, times)" was expected', "4: 0 is less than the minimum of 1"]);
    expect(relative(dir, bad.diagnostics[0]!.file)).toBe("bad.clnrm.toml");
  });
});
