import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CleanroomError } from "@clnrm/core";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_FILE_BYTES, planTest } from "../src/index.js";

// Every file under fixtures/bad is a broken test file whose first line is `# expect: <regex>`: what
// the one-line error must say. planTest must refuse each with a user-facing error that points at
// file:line:col, never with a stack trace or a generic exception.
const dir = join(import.meta.dirname, "fixtures/bad");
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith(".clnrm.toml"))
  .sort()
  .map((f) => {
    const first = readFileSync(join(dir, f), "utf8").split("\n")[0]!;
    const m = /^# expect: (.+)$/.exec(first);
    if (!m) throw new Error(`${f}: first line must be '# expect: <regex>'`);
    return [f, new RegExp(m[1]!)] as const;
  });

const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-bad-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function refusal(file: string): Promise<CleanroomError> {
  const err = await planTest(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${file} was accepted`).toBeInstanceOf(CleanroomError);
  const e = err as CleanroomError;
  expect(e.userFacing).toBe(true);
  expect(["CLNRM_ERR_VALIDATION", "CLNRM_ERR_PLUGIN_NOT_FOUND"]).toContain(e.code);
  const line = e.format();
  expect(line.split("\n"), line).toHaveLength(1);
  expect(line).not.toMatch(/undefined|\[object Object\]/);
  return e;
}

describe("bad-file corpus", () => {
  it("has at least 50 files", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
  });

  it.each(corpus)("%s", async (name, expected) => {
    const e = await refusal(join(dir, name));
    const line = e.format();
    expect(line).toMatch(expected);
    // file:line:col, with the line inside the file (line 1 is the # expect comment).
    const at = new RegExp(`${name.replace(/\./g, "\\.")}:(\\d+):(\\d+): `).exec(line);
    expect(at, `no file:line:col in: ${line}`).not.toBeNull();
    const lines = readFileSync(join(dir, name), "utf8").split("\n").length;
    expect(Number(at![1])).toBeGreaterThanOrEqual(1);
    expect(Number(at![1])).toBeLessThanOrEqual(lines);
    expect(Number(at![2])).toBeGreaterThanOrEqual(1);
  });
});

describe("generated bad files", () => {
  it("a file over 1 MiB is refused before parsing, naming the file", async () => {
    const f = join(scratch, "huge.clnrm.toml");
    const block = `[[steps]]\nname = "x"\ncommand = ["echo", "${"a".repeat(200)}"]\n\n`;
    writeFileSync(f, block.repeat(Math.ceil((MAX_FILE_BYTES + 1024) / block.length)));
    const e = await refusal(f);
    expect(e.format()).toMatch(/huge\.clnrm\.toml: file is 1\.0 MiB; test files are limited to 1 MiB \(split it into several test files\)$/);
  });

  it("binary garbage is refused as not UTF-8 text", async () => {
    const f = join(scratch, "binary.clnrm.toml");
    const bytes = randomBytes(4096);
    bytes[100] = 0; // at least one NUL
    writeFileSync(f, bytes);
    const e = await refusal(f);
    expect(e.format()).toMatch(/binary\.clnrm\.toml(:\d+:1)?: file is not UTF-8 text \(binary content\)/);
  });

  it("invalid UTF-8 after valid TOML points at its line", async () => {
    const f = join(scratch, "latin1.clnrm.toml");
    writeFileSync(f, Buffer.concat([Buffer.from('[meta]\nname = "ok"\ndescription = "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const e = await refusal(f);
    expect(e.format()).toMatch(/latin1\.clnrm\.toml:3:1: file is not UTF-8 text/);
  });

  it("a missing file names it", async () => {
    const e = await refusal(join(scratch, "nope.clnrm.toml"));
    expect(e.format()).toMatch(/nope\.clnrm\.toml: file not found \(check the path\)$/);
  });

  it("a directory given as a file names it", async () => {
    const e = await refusal(scratch);
    expect(e.format()).toMatch(/cannot read file \(EISDIR\)/);
  });
});

// The same refusals through the built CLI: exit 2, one line on stderr, no stack trace.
const bin = join(import.meta.dirname, "../../cli/dist/bin.js");
describe("through `clnrm validate`", () => {
  const sample = [
    "syntax-unterminated-string.clnrm.toml",
    "syntax-duplicate-key.clnrm.toml",
    "type-ports-string.clnrm.toml",
    "unknown-key-step.clnrm.toml",
    "plugin-near-miss.clnrm.toml",
    "plugin-url-as-type.clnrm.toml",
    "regex-spans-name.clnrm.toml",
    "cycle-3-mixed.clnrm.toml",
    "unknown-key-top.clnrm.toml",
    "volume-docker-socket.clnrm.toml",
    "proto-meta-table.clnrm.toml",
    "duration-too-long-step.clnrm.toml",
    "ref-unknown-output.clnrm.toml",
    "port-fixed-twice.clnrm.toml",
    "cap-add-unknown.clnrm.toml",
    "nul-argument.clnrm.toml",
  ];
  it.each(sample)("%s", (name) => {
    const expected = corpus.find(([f]) => f === name)![1];
    const r = spawnSync(process.execPath, [bin, "validate", join(dir, name)], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it("binary garbage", () => {
    const f = join(scratch, "garbage.clnrm.toml");
    writeFileSync(f, randomBytes(2048));
    const r = spawnSync(process.execPath, [bin, "validate", f], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/garbage\.clnrm\.toml.*not UTF-8 text/);
  });
});
