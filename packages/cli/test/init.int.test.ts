import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { bin } from "./helpers.js";

// `clnrm init` in a folder that is no project: the file's #:schema line points at the file that
// `clnrm schema --output clnrm.schema.json` writes there, its links are absolute URLs of files that
// exist in this repository, it validates, and nothing tells the user to install what the CLI brings.
const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-init-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function cli(cwd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

/** The repository file an absolute https://github.com/clnrm/clnrm-ts/blob/main/... link names. */
const repoPath = (url: string) => url.replace(/^https:\/\/github\.com\/clnrm\/clnrm-ts\/(blob|tree)\/main\//, "").replace(/#.*$/, "");

describe("clnrm init", () => {
  it.each([
    [undefined, "tests/example.clnrm.toml", "../clnrm.schema.json"],
    ["smoke.clnrm.toml", "smoke.clnrm.toml", "./clnrm.schema.json"],
    ["a/b/deep.clnrm.toml", "a/b/deep.clnrm.toml", "../../clnrm.schema.json"],
  ])("init %s: #:schema points where `clnrm schema --output` writes", async (arg, written, ref) => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const init = await cli(cwd, arg ? ["init", arg] : ["init"]);
    expect(init.code, init.out).toBe(0);
    const file = join(cwd, written);
    const text = readFileSync(file, "utf8");
    const first = text.split("\n")[0];
    expect(first).toBe(`#:schema ${ref}`);

    const schema = await cli(cwd, ["schema", "--output", "clnrm.schema.json"]);
    expect(schema.code, schema.out).toBe(0);
    const target = resolve(dirname(file), ref);
    expect(existsSync(target), `${ref} from ${written} does not reach the schema`).toBe(true);
    expect(JSON.parse(readFileSync(target, "utf8")).title).toMatch(/clnrm test file/);

    // generic_container comes with the CLI: no install hint, and the file validates as it is.
    expect(init.out).not.toMatch(/install/i);
    expect(text).not.toMatch(/install/i);
    const validate = await cli(cwd, ["validate", written]);
    expect(validate.code, validate.out).toBe(0);
  });

  it("links are absolute URLs of files in this repository", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const init = await cli(cwd, ["init"]);
    // What init prints and the file's comments (its steps' own URLs are the test's, not links).
    const comments = readFileSync(join(cwd, "tests/example.clnrm.toml"), "utf8").split("\n").filter((l) => l.startsWith("#"));
    const text = [init.out, ...comments].join("\n");
    expect(text).not.toMatch(/(^|\s)docs\/\S+\.md/m); // no repository-relative path
    const urls = text.match(/https?:\/\/\S+/g) ?? [];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^https:\/\/github\.com\/clnrm\/clnrm-ts\/(blob|tree)\/main\//);
      expect(existsSync(join(repoRoot, repoPath(url))), `${url} names no file of the repository`).toBe(true);
    }
  });

  it("refuses to overwrite without --force: exit 2, one line", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    expect((await cli(cwd, ["init"])).code).toBe(0);
    const again = await cli(cwd, ["init"]);
    expect(again.code).toBe(2);
    expect(again.out.trim()).toBe("error: tests/example.clnrm.toml already exists (pass --force to overwrite it, or name another file)");
    expect((await cli(cwd, ["init", "--force"])).code).toBe(0);
  });
});
