// Through the CLI: the shipped example passes, and bad input is one line with file:line:col and exit 2.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { leftovers } from "@clnrm/plugin-kit/testing";
import { afterAll, expect, it } from "vitest";

const cli = join(import.meta.dirname, "../../cli/dist/bin.js");
const example = join(import.meta.dirname, "../examples/redis.clnrm.toml");
const PASS = "ex4mple-Pa55word";
const dir = mkdtempSync(join(import.meta.dirname, ".tmp-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function clnrm(...args: string[]): Promise<{ code: number; out: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, out: `${stdout}\n${stderr}`, stderr }),
    (e: { stdout: string; stderr: string; code: number }) => ({ code: e.code, out: `${e.stdout}\n${e.stderr}`, stderr: e.stderr }),
  );
}

/** What is left of the run whose id `clnrm run` printed (plugin-kit's leftovers, by label). */
function left(out: string): string[] {
  const runId = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(runId, out).toBeTruthy();
  return leftovers(runId!);
}

it("clnrm run --verbose of the example passes, shows the urls redacted, never the password, and leaves no container", async () => {
  const r = await clnrm("run", "--verbose", example);
  expect(r.code, r.out).toBe(0);
  expect(r.out).toMatch(/✓ step read a key from another redis:7\.0 container by internal_url/);
  expect(r.out).toMatch(/✓ step a client without the password is refused/);
  expect(r.out).toMatch(/internal_url = redis:\/\/default:\[redacted\]@cache:6379\/0/);
  expect(r.out).toMatch(/1 passed, 0 failed/);
  expect(r.out).not.toContain(PASS);
  expect(left(r.out)).toEqual([]);
}, 120_000);

it("bad keys are refused before anything starts: one line each with file:line:col, exit 2", async () => {
  const file = join(dir, "bad.clnrm.toml");
  writeFileSync(file, ['[services.cache]', 'type = "redis"', "databases = 0", 'init = ["SET k \\"a b\\""]', "", "[[steps]]", 'name = "x"', 'service = "cache"', 'command = ["redis-cli", "PING"]', ""].join("\n"));
  const r = await clnrm("run", file);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`bad.clnrm.toml:3:1: services.cache.databases: databases must be at least 1 (Redis' default is 16)`);
  expect(r.stderr).toContain(`bad.clnrm.toml:4:9: services.cache.init[0]: a command string is split on spaces only`);
  expect(r.out).not.toMatch(/\n\s+at /);
});

it("a failing init command fails the run with the command and redis' error, and leaves no container", async () => {
  const file = join(dir, "init.clnrm.toml");
  writeFileSync(file, ['[services.cache]', 'type = "redis"', `password = "${PASS}"`, 'init = [["SET", "k", "v"], "LPUSH k x"]', "", "[[steps]]", 'name = "x"', 'service = "cache"', 'command = ["redis-cli", "PING"]', ""].join("\n"));
  const r = await clnrm("run", file);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/service 'cache': init command 2 `LPUSH k x` failed: WRONGTYPE Operation against a key holding the wrong kind of value/);
  expect(r.out).not.toContain(PASS);
  expect(left(r.out)).toEqual([]);
}, 60_000);
