import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// A real step prints an OSC (set the title), a CSI (clear the screen), a carriage return that would
// overwrite its line with a forged "✓ passed", a C1 CSI and a DEL. The human report shows them as
// text; JSON keeps the exact bytes (JSON escapes them); JUnit stays valid XML and shows them as text.
const file = join(import.meta.dirname, "escape-fixtures/escape.clnrm.toml");
const printed = "\x1b]0;pwned\x07\x1b[2J\r✓ passed";
const shown = String.raw`\x1b]0;pwned\x07\x1b[2J\r✓ passed`;
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-escape-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Control characters a terminal acts on: C0 but newline and tab, DEL, C1. */
const control = /(?![\n\t])\p{Cc}/u;
/** A colour (SGR) sequence: ESC [ params m. */
const sgr = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

describe("control characters in step output", () => {
  it("human output shows them as text, in the verbose output and in the failure", async () => {
    const r = await clnrm(["run", "--verbose", file]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out, "a raw control character reached the terminal").not.toMatch(control);
    // The passing step's output (verbose), the failing step's output tail, and the step name.
    // (The failure's output tail is indented after the \r as well: the runner treats it as a line start.)
    expect(out).toContain(shown);
    expect(out).toMatch(/\\x1b\]0;pwned\\x07\\x1b\[2J\\r {4}✓ passed/);
    expect(out).toContain(String.raw`\x9b31m c1 \x7f del`);
    expect(out).toContain(String.raw`step fails with escapes \x1b[2J in its name: expected exit code 0, got 1`);
    // No line of the report starts with the forged mark: the only verdict line is the real one.
    expect(out.split("\n").filter((l) => /^\s*✓ passed/.test(l))).toEqual([]);
    expect(out).toMatch(/^✗ failed escapes/m);
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("with colours on, the only escape sequences are clnrm's own SGR colours", async () => {
    const r = await clnrm(["run", "--verbose", file], { env: { FORCE_COLOR: "1", NO_COLOR: "" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("\x1b[32m"); // colours are on
    const withoutSgr = r.stdout.replace(sgr, "");
    expect(withoutSgr).not.toMatch(control);
    expect(withoutSgr).toContain(shown);
  });

  it("JSON keeps the exact bytes; JUnit is valid XML and shows them as text", async () => {
    const json = join(scratch, "r.json");
    const xml = join(scratch, "r.xml");
    const a = await clnrm(["run", "--reporter", "json", "--output", json, file]);
    const b = await clnrm(["run", "--reporter", "junit", "--output", xml, file]);
    expect([a.code, b.code]).toEqual([1, 1]);
    const report = JSON.parse(readFileSync(json, "utf8")) as { results: Array<{ steps: Array<{ name: string; stdout: string }> }> };
    const steps = report.results[0]!.steps;
    expect(steps[0]!.stdout).toBe(`${printed}\n\u009b31m c1 \x7f del\n`);
    expect(steps[1]!.name).toBe("fails with escapes \x1b[2J in its name");
    const text = readFileSync(xml, "utf8");
    // No control character at all (of C0, XML 1.0 allows only tab, newline and CR; the builder writes \r as &#xD;).
    expect(text, "a raw control character in the XML").not.toMatch(/(?![\t\n\r])\p{Cc}/u);
    expect(text).toContain(String.raw`name="fails with escapes \x1b[2J in its name"`);
    expect(text).toContain(shown);
    expect(leftBy(a.pid)).toEqual([]);
    expect(leftBy(b.pid)).toEqual([]);
  });
});
