import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { bin } from "./helpers.js";

// `clnrm fmt` with the taplo that comes with the CLI (no mock): what it changes, what it keeps
// (#:schema, comments), the project's .taplo.toml, --check for CI, and a file that isn't TOML.
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-fmt-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function cli(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const UNFORMATTED = `#:schema ../clnrm.schema.json
# what this test is for
[meta]
name="fmt"   # the test's name
tags=[ "a","b" ]

[services.app]
type="generic_container"
image  =  "alpine:latest"

[[steps]]
name="hi"
service="app"
command=[ "echo","hi" ]
`;

describe("clnrm fmt", () => {
  it("--check lists unformatted files and changes nothing; fmt formats, keeping #:schema and comments", async () => {
    const dir = mkdtempSync(join(scratch, "p-"));
    mkdirSync(join(dir, "tests"));
    const file = join(dir, "tests", "a.clnrm.toml");
    writeFileSync(file, UNFORMATTED);
    writeFileSync(join(dir, "tests", "ok.clnrm.toml"), '[meta]\nname = "ok"\n');

    const check = await cli(dir, ["fmt", "--check", "tests"]);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout).toBe("tests/a.clnrm.toml\n");
    expect(check.stderr).toContain("1 of 2 file(s) not formatted");
    expect(readFileSync(file, "utf8")).toBe(UNFORMATTED);

    const fmt = await cli(dir, ["fmt", "tests"]);
    expect(fmt.code, fmt.stderr).toBe(0);
    expect(fmt.stdout).toBe("formatted tests/a.clnrm.toml\n");
    const text = readFileSync(file, "utf8");
    expect(text).not.toBe(UNFORMATTED);
    expect(text.split("\n")[0]).toBe("#:schema ../clnrm.schema.json");
    expect(text).toContain("# what this test is for\n");
    expect(text).toMatch(/^name = "fmt" +# the test's name$/m);
    expect(text).toContain('tags = ["a", "b"]');
    expect(text).toContain('command = ["echo", "hi"]');

    expect((await cli(dir, ["fmt", "--check", "tests"])).code).toBe(0);
    const validate = await cli(dir, ["validate", "tests/a.clnrm.toml"]);
    expect(validate.code, validate.stderr).toBe(0);
  });

  it("uses the project's .taplo.toml (found from a subdirectory up)", async () => {
    const dir = mkdtempSync(join(scratch, "p-"));
    const sub = join(dir, "deep", "er");
    mkdirSync(sub, { recursive: true });
    const source = '[meta]\nname = "x" # c\ndescription = "y"\n';
    writeFileSync(join(sub, "t.clnrm.toml"), source);
    // taplo's default aligns the comment with the longer key's line: not formatted without settings.
    expect((await cli(sub, ["fmt", "--check"])).code).toBe(1);
    // The project's settings say comments stay where they are: formatted.
    writeFileSync(join(dir, ".taplo.toml"), "[formatting]\nalign_comments = false\n");
    const kept = await cli(sub, ["fmt", "--check"]);
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    // With align_entries too, the "=" line up.
    writeFileSync(join(dir, ".taplo.toml"), "[formatting]\nalign_comments = false\nalign_entries = true\n");
    const check = await cli(sub, ["fmt", "--check"]);
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout).toBe("t.clnrm.toml\n");
    const fmt = await cli(sub, ["fmt"]);
    expect(fmt.code, fmt.stderr).toBe(0);
    expect(fmt.stderr).toContain("settings: ../../.taplo.toml");
    expect(readFileSync(join(sub, "t.clnrm.toml"), "utf8")).toBe('[meta]\nname        = "x" # c\ndescription = "y"\n');
  });

  it("a file that isn't TOML: one line at its position, exit 2, nothing changed", async () => {
    const dir = mkdtempSync(join(scratch, "p-"));
    const bad = '[meta\nname="x"\n';
    writeFileSync(join(dir, "bad.clnrm.toml"), bad);
    writeFileSync(join(dir, "good.clnrm.toml"), 'name="x"\n');
    const r = await cli(dir, ["fmt"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: bad\.clnrm\.toml:1:6: TOML syntax error: .*\n$/);
    expect(readFileSync(join(dir, "bad.clnrm.toml"), "utf8")).toBe(bad);
    expect(readFileSync(join(dir, "good.clnrm.toml"), "utf8")).toBe('name="x"\n');
  });
});
