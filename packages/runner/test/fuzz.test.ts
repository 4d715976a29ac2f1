import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CleanroomError } from "@clnrm/core";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument, planTest } from "../src/index.js";

// Property-based fuzzing of the loader and the planner: whatever the input, the answer is a plan
// or one user-facing line, never another exception. Bounded (numRuns, fixed seed per run printed
// by fast-check on failure) so the whole file stays well under 30 s.
const RUNS = 300;

function assertUserError(err: unknown, multi = false): void {
  if (!(err instanceof CleanroomError)) throw new Error(`not a CleanroomError: ${(err as Error)?.stack ?? String(err)}`);
  if (!err.userFacing) throw new Error(`not user-facing: ${err.stack}`);
  expect(["CLNRM_ERR_VALIDATION", "CLNRM_ERR_PLUGIN_NOT_FOUND"]).toContain(err.code);
  const line = err.format();
  const lines = line.split("\n");
  // The planner reports every problem of a file at once: one line each, the later ones `file:line:col: message`.
  if (multi) for (const l of lines.slice(1)) expect(l, line).toMatch(/^\S+:\d+:\d+: \S/);
  else expect(lines, line).toHaveLength(1);
  expect(line).not.toMatch(/undefined|\[object Object\]|NaN/);
}

// Fragments that make random text look like TOML, so the parser gets past its first character.
const tomlish = fc.constantFrom(
  "[", "]", "[[", "]]", "{", "}", "=", " = ", ",", ".", '"', "'", '"""', "'''", "\\", "\\u", "#", "\n", "\r\n", "\t", " ",
  "services", "steps", "meta", "expect", "spans", "type", "image", "generic_container", "ports", "env", "command",
  "depends_on", "${services.a.host}", "1", "-1", "1.5", "1e999", "inf", "nan", "true", "false", "0x1F", "1979-05-27T07:32:00Z",
  "a", "é", "\u0000", "\uFFFD", "\u{1F600}",
  // Hostile (issue 12): prototype keys, a BOM, runs of nesting.
  "__proto__", '"__proto__"', "constructor", "\uFEFF", "[[[[[[[[", "{a={a={a=", "a.a.a.a.a.",
);

describe("parseDocument", () => {
  it("arbitrary strings: a document or a user-facing error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: "binary", maxLength: 400 }), fc.array(tomlish, { maxLength: 60 }).map((a) => a.join(""))), (text) => {
        try {
          const doc = parseDocument(text, "/tmp/fuzz.clnrm.toml");
          expect(typeof doc.value).toBe("object");
          // locate never throws, whatever the path.
          doc.locate(["services", "x", "y", 0]);
        } catch (err) {
          assertUserError(err);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it("arbitrary bytes: a document or a user-facing error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          parseDocument(Buffer.from(bytes), "/tmp/fuzz.clnrm.toml");
        } catch (err) {
          assertUserError(err);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

// --- structured but wrong documents ------------------------------------------------------------

/** A tiny TOML emitter for what the model below generates: everything as inline values. */
function toml(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(toml).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}`).join(", ")} }`;
}

function document(doc: Record<string, unknown>, headers: boolean): string {
  if (!headers) return Object.entries(doc).map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}\n`).join("");
  // The usual layout: [meta], [services.NAME], [[steps]] headers, one key per line.
  let out = "";
  const table = (header: string, t: unknown) => {
    if (t === null || typeof t !== "object" || Array.isArray(t)) return false;
    out += `${header}\n${Object.entries(t).map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}\n`).join("")}\n`;
    return true;
  };
  for (const [k, v] of Object.entries(doc)) {
    if (k === "services" && v && typeof v === "object" && !Array.isArray(v)) {
      for (const [name, svc] of Object.entries(v)) if (!table(`[services.${JSON.stringify(name)}]`, svc)) out += `services.${JSON.stringify(name)} = ${toml(svc)}\n`;
    } else if (k === "steps" && Array.isArray(v) && v.every((s) => s && typeof s === "object" && !Array.isArray(s))) {
      for (const s of v) table("[[steps]]", s);
    } else if (!table(`[${JSON.stringify(k)}]`, v)) {
      out = `${JSON.stringify(k)} = ${toml(v)}\n${out}`;
    }
  }
  return out;
}

const names = fc.oneof(
  { arbitrary: fc.constantFrom("a", "b", "db", "api", "web"), weight: 15 },
  { arbitrary: fc.constantFrom("bad name", "-x", "x.y", "", "__proto__", "constructor"), weight: 1 },
);
const ref = names.chain((n) =>
  fc.constantFrom(`\${services.${n}.host}`, `\${services.${n}.url}`, `http://\${services.${n}.host}:\${services.${n}.port}/`, `\${services.${n}.constructor}`, `\${services.${n}}`, `\${services.${n}.host`),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -70_000, max: 70_000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constantFrom("30s", "500ms", "2m", "-1s", "forever", "8080", "18080:8080", "70000", "80/udp", "/tmp:/data", "./x:/y:ro", "/etc:/etc", "[a-", "(x", "^ok$", "alpine:latest", ""),
  ref,
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.constantFrom("type", "port", "path", "x", "A", "__proto__", "constructor"), tie("v"), { maxKeys: 3 })),
})).v;

/** A record whose keys come from the valid set, near misses of it, and nonsense, with values that are right or wrong. */
function tableOf(keys: Record<string, fc.Arbitrary<unknown>>, typos: string[], maxLength = 7): fc.Arbitrary<Record<string, unknown>> {
  // Mostly valid keys with plausible values, so that documents get past the first check often enough
  // to reach plugin schemas, references and the service graph.
  const entries = [
    ...Object.entries(keys).map(([k, arb]) => ({ arbitrary: fc.tuple(fc.constant(k), fc.oneof({ arbitrary: arb, weight: 12 }, { arbitrary: value, weight: 1 })), weight: 12 })),
    { arbitrary: fc.tuple(fc.constantFrom(...typos), value), weight: 1 },
  ];
  return fc.array(fc.oneof(...entries), { maxLength }).map((kv) => Object.fromEntries(kv));
}

const duration = fc.constantFrom("30s", "1m", "250ms", 5, "-1s", "soon", true, "600h", 2_147_484);
const service = tableOf(
  {
    type: fc.constantFrom("generic_container", "generic_container", "generic_container", "generic_container", "generic_containr", "chaos_engine", "otel_collector", "", "../evil.js", "https://x.example/p.js", "node:fs"),
    image: fc.constantFrom("alpine:latest", "", "  ", 1),
    ports: fc.array(fc.oneof(fc.constantFrom("8080", "18080:8080", "70000", "0", "a:b", "80/udp"), fc.integer({ min: -1, max: 70_000 })), { maxLength: 3 }),
    env: fc.dictionary(fc.constantFrom("A", "B", "URL"), fc.oneof(fc.string({ maxLength: 6 }), ref, fc.integer()), { maxKeys: 3 }),
    depends_on: fc.array(names, { maxLength: 3 }),
    command: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 6 }), ref), { maxLength: 3 }), fc.string({ maxLength: 8 })),
    volumes: fc.array(fc.constantFrom("/tmp:/data", "./x:/y:ro", "/etc:/etc", "vol:/v", "x", "/a:/b:zz", "/var/run/docker.sock:/s"), { maxLength: 2 }),
    health_check: fc.record({ type: fc.constantFrom("http", "tcp", "exec", "log", "grpc"), port: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant("80")) }, { requiredKeys: [] }),
    startup_timeout: duration,
    start_attempts: fc.integer({ min: -1, max: 25 }),
    targets: fc.array(names, { maxLength: 2 }),
    pause: fc.boolean(),
    workdir: fc.constantFrom("/app", "app", ""),
    cap_add: fc.array(fc.constantFrom("NET_ADMIN", "cap_sys_ptrace", "NET_ADMN", "", "ALL"), { maxLength: 2 }),
  },
  ["tpye", "imgae", "prots", "dependson", "healthcheck", "package", "startup_timout", ""],
);
const step = tableOf(
  {
    name: fc.constantFrom("s", "", "step one"),
    service: names,
    command: fc.oneof(fc.array(fc.oneof(fc.constantFrom("true", "echo"), ref), { minLength: 0, maxLength: 3 }), fc.constantFrom("true", "", "echo ${services.a.url}")),
    expected_output_regex: fc.constantFrom("^ok$", "[a-", "(x", "*", ""),
    expected_stderr_regex: fc.constantFrom("err", "(?<n", "\\"),
    expected_exit_code: fc.oneof(fc.integer({ min: -1, max: 300 }), fc.constant("0")),
    timeout: duration,
    retries: fc.integer({ min: -1, max: 101 }),
    retry_interval: duration,
    continue_on_failure: fc.oneof(fc.boolean(), fc.constant("yes")),
    env: fc.dictionary(fc.constantFrom("A", "B"), fc.oneof(fc.string({ maxLength: 6 }), ref), { maxKeys: 2 }),
    workdir: fc.constantFrom("/tmp", ""),
  },
  ["comand", "expected_output", "servce", "retry"],
);
const meta = tableOf({ name: fc.constantFrom("t", "", 1), description: fc.string({ maxLength: 10 }), tags: fc.array(fc.constantFrom("a", ""), { maxLength: 2 }), timeout: duration }, ["nmae", "tag"]);
const spans = fc.array(
  tableOf({ name: fc.constantFrom("GET /", ""), name_regex: fc.constantFrom("^GET", "*x"), collector: names, kind: fc.constantFrom("server", "bogus"), status: fc.constantFrom("ok", "error", "meh"), parent: fc.constant("p") }, ["nmae", "atributes"]),
  { maxLength: 2 },
);
const testFile = tableOf(
  {
    meta,
    services: fc.dictionary(names, service.map((svc) => ({ type: "generic_container", image: "alpine:latest", ...svc })), { minKeys: 1, maxKeys: 4 }),
    steps: fc.array(step, { maxLength: 3 }),
    expect: fc.record({ spans }, { requiredKeys: [] }),
  },
  ["servces", "step", "metadata", "expects"],
  5,
);

const dir = mkdtempSync(join(import.meta.dirname, ".tmp-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("planTest on structured-but-wrong documents", () => {
  it("plans or refuses with one user-facing line", async () => {
    let n = 0;
    const outcomes = { planned: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(testFile, fc.boolean(), async (doc, headers) => {
        const source = document(doc, headers);
        const f = join(dir, `f${n++}.clnrm.toml`);
        writeFileSync(f, source);
        const proto = Object.getOwnPropertyNames(Object.prototype).sort();
        try {
          await planTest(f);
          outcomes.planned++;
        } catch (err) {
          if (!(err instanceof CleanroomError) || !err.userFacing) throw new Error(`for:\n${source}\n${(err as Error)?.stack ?? String(err)}`);
          assertUserError(err, true);
          // Errors about the file's content point into it (syntax errors included).
          if (err.location) expect(err.location.file).toMatch(/f\d+\.clnrm\.toml$/);
          outcomes.refused++;
        } finally {
          // Nothing a file holds reaches Object.prototype.
          expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(proto);
        }
      }),
      { numRuns: RUNS },
    );
    // The generator must reach both outcomes, or it tests nothing.
    expect(outcomes.planned).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(RUNS / 2);
  }, 60_000);
});
