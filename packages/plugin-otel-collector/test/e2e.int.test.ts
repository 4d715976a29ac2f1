import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../cli/dist/bin.js");
const example = join(here, "../examples/otel.clnrm.toml");

it("clnrm run of the example passes, removes its span dir and leaves no container", async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, "run", "--verbose", example], {
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 90_000,
  }).catch((e: { stdout: string; stderr: string; code: number }) => {
    throw new Error(`clnrm run exited with ${e.code}:\n${e.stdout}\n${e.stderr}`);
  });
  const out = `${stdout}\n${stderr}`;
  expect(out).toMatch(/✓ step the collector wrote both spans to its span file/);
  expect(out).toMatch(/internal_otlp_http_endpoint = http:\/\/otel:4318/);
  expect(out).toMatch(/1 passed, 0 failed/);
  const spansFile = /spans_file = (\S+)/.exec(out)?.[1];
  expect(spansFile).toBeTruthy();
  expect(existsSync(dirname(spansFile!))).toBe(false);
  const runId = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(runId).toBeTruthy();
  expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim()).toBe("");
}, 120_000);

it("a span expectation that doesn't hold fails the test with what was expected and what was seen", async () => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
  const dir = mkdtempSync(join(here, ".tmp-"));
  try {
    const source = readFileSync(example, "utf8").replace('attributes = { "http.method" = "POST", "http.status_code" = 200 }', 'attributes = { "http.method" = "POST", "http.status_code" = 503 }\nwithin = "1s"');
    const file = join(dir, "wrong.clnrm.toml");
    writeFileSync(file, source);
    const r = await promisify(execFile)(process.execPath, [cli, "run", file], { env: { ...process.env, NO_COLOR: "1" }, timeout: 90_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ step expect span "checkout" under "root": .*http\.status_code=503.*found 0/);
    expect(r.stdout).toMatch(/http\.status_code=200/);
    expect(r.stdout).toMatch(/0 passed, 1 failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
