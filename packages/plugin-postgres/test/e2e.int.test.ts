// Through the CLI (`node packages/cli/dist/bin.js`), against the local postgres:15 (the test build of the real server).
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { leftovers } from "@clnrm/plugin-kit/testing";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../cli/dist/bin.js");
const example = join(here, "../../../examples/postgres.clnrm.toml");
const cliFixtures = join(here, "fixtures/cli");

async function clnrm(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: join(here, ".."), env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 });
    return { code: 0, out: `${stdout}\n${stderr}` };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { code: err.code, out: `${err.stdout}\n${err.stderr}` };
  }
}

/** What is left of the run whose id `clnrm run` printed (plugin-kit's leftovers, by label). */
function left(out: string): string[] {
  const runId = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(runId, out).toBeTruthy();
  return leftovers(runId!);
}

describe("the spec's multi-service use case with PostgreSQL (examples/shop.clnrm.toml)", () => {
  it("database, api (DB_URL) and frontend e2e through the api pass, and the write reached the database", async () => {
    const { code, out } = await clnrm("run", join(here, "../../../examples/shop.clnrm.toml"));
    expect(code, out).toBe(0);
    expect(out).toMatch(/✓ step the API serves the init script's todos \(from the host\)/);
    expect(out).toMatch(/✓ step frontend e2e: create a todo through the API/);
    expect(out).toMatch(/✓ step the todo is in the database/);
    expect(out).not.toContain("ex4mple-Pa55word");
    expect(left(out)).toEqual([]);
  }, 150_000);
});

describe("clnrm with postgres services", () => {
  it("run --verbose of the example passes, shows the urls redacted and leaves no container", async () => {
    const { code, out } = await clnrm("run", "--verbose", example);
    expect(code, out).toBe(0);
    expect(out).toMatch(/✓ step read the products back/);
    expect(out).toMatch(/✓ step the CHECK constraint holds/);
    expect(out).toMatch(/internal_url = postgres:\/\/shop:\[redacted\]@db:5432\/shop/);
    expect(out).toMatch(/1 passed, 0 failed/);
    expect(out).not.toContain("ex4mple-Pa55word");
    expect(left(out)).toEqual([]);
  }, 120_000);

  it("validate and run report a missing init script at its position in the file, exit 2, start nothing", async () => {
    const file = join(cliFixtures, "missing-script.clnrm.toml");
    for (const cmd of ["validate", "run"]) {
      const { code, out } = await clnrm(cmd, file);
      expect(code, out).toBe(2);
      // Relative to the working directory (the package's).
      expect(out.trim()).toBe(
        `error: test/fixtures/cli/missing-script.clnrm.toml:6:34: services.db.init_scripts[1]: init script 'no-such-file.sql' not found at ${join(cliFixtures, "no-such-file.sql")}: paths are relative to the test file's directory`,
      );
    }
  }, 60_000);

  it("a failing statement fails the run with the host file, line and server message, without the password", async () => {
    const { code, out } = await clnrm("run", join(cliFixtures, "bad-sql.clnrm.toml"));
    expect(code, out).toBe(1);
    expect(out).toContain(`✗ service db failed: service 'db': init script failed at ${join(here, "fixtures/broken.sql")}:5: ERROR: relation "missing_table" does not exist`);
    expect(out).not.toContain("cli-Pa55word-xyz");
    expect(left(out)).toEqual([]);
  }, 120_000);
});
