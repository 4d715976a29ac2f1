import { execFile, execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../cli/dist/bin.js");
const example = join(here, "../examples/surreal.clnrm.toml");
const PASS = "ex4mple-Pa55word";

it("clnrm run --verbose of the example passes, never prints the password and leaves no container", async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, "run", "--verbose", example], {
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 90_000,
  }).catch((e: { stdout: string; stderr: string; code: number }) => {
    throw new Error(`clnrm run exited with ${e.code}:\n${e.stdout}\n${e.stderr}`);
  });
  const out = `${stdout}\n${stderr}`;
  expect(out).toMatch(/✓ step read the product back over HTTP/);
  expect(out).toMatch(/internal_url = http:\/\/db:8000/);
  expect(out).toMatch(/1 passed, 0 failed/);
  expect(out).not.toContain(PASS);
  const runId = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(runId).toBeTruthy();
  const left = execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
  expect(left).toBe("");
}, 120_000);
