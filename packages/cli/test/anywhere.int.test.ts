// A test file outside any project, run with the workspace CLI from a directory with no project either:
// generic_container resolves from beside the CLI (its own dependency), as after a global install or npx.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bin, leftBy } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function outside(): string {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-anywhere-"));
  dirs.push(dir);
  return dir;
}

function clnrm(cwd: string, args: string[], node = process.execPath) {
  const r = spawnSync(node, [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

describe("run a file from anywhere", () => {
  it("a generic_container file in a fresh tmp dir, run from another one, resolves beside the CLI and passes", () => {
    const dir = outside();
    const file = join(dir, "test-plugin.clnrm.toml");
    writeFileSync(
      file,
      `[meta]\nname = "anywhere"\n\n[services.box]\ntype = "generic_container"\nimage = "alpine:latest"\n\n[[steps]]\nname = "echo"\nservice = "box"\ncommand = ["sh", "-c", "echo hello"]\nexpected_output_regex = "hello"\n`,
    );
    const r = clnrm(outside(), ["run", file]);
    expect(r.stderr).not.toContain("unknown service type");
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("passed anywhere");
    expect(leftBy(r.pid!)).toEqual([]);
  });
});

const oldNode = "/usr/bin/node";
const oldMajor = existsSync(oldNode) ? Number(spawnSync(oldNode, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).stdout) : 0;

describe.runIf(oldMajor > 0 && oldMajor < 22)("Node versions", () => {
  it("on Node < 22 every command prints one line and exits 2", () => {
    for (const args of [["--version"], ["run", "x.clnrm.toml"], ["plugins"]]) {
      const r = clnrm(outside(), args, oldNode);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^clnrm needs Node\.js 22 or newer \(this is v\d+\.\d+\.\d+\)\n$/);
    }
  });
});
