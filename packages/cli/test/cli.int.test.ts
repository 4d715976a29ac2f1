import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// End-to-end: the built `clnrm` binary against the real Docker engine.
const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, source: string): string {
  const f = join(scratch, name);
  writeFileSync(f, source);
  return f;
}

describe("clnrm run", () => {
  it("runs the seed file: exit 0, nothing left", async () => {
    const r = await clnrm(["run", fixture("seed.clnrm.toml")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ step echo/);
    expect(r.stdout).toMatch(/^1 passed, 0 failed$/m);
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("fails a step with what was expected and what was seen: exit 1, later steps skipped, nothing left", async () => {
    const r = await clnrm(["run", fixture("failing-step.clnrm.toml")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("✗ step greets: expected exit code 0, got 3; expected stdout to match /^hello$/");
    expect(r.stdout).toMatch(/stdout \(last lines\):\n\s+hola/);
    expect(r.stdout).toMatch(/stderr \(last lines\):\n\s+oops/);
    expect(r.stdout).toContain("1 step(s) skipped");
    expect(r.stdout).toMatch(/^0 passed, 1 failed$/m);
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("runs two services on one network, with references and host steps", async () => {
    const r = await clnrm(["run", "--verbose", fixture("multi.clnrm.toml")]);
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/url = http:\/\/localhost:\d+/);
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("runs every test file in a directory and reports each", async () => {
    const r = await clnrm(["run", "--jobs", "2", "--reporter", "json", fixture("")]);
    const report = JSON.parse(r.stdout) as { passed: number; failed: number; results: { name: string; status: string }[] };
    expect(r.code).toBe(1);
    expect(report.results.map((x) => [x.name, x.status]).sort()).toEqual([
      ["failing step", "failed"],
      ["test/fixtures/seed.clnrm.toml", "passed"],
      ["two services", "passed"],
    ].sort());
  }, 120_000);

  it("tears down on SIGINT during a step: exit 130, nothing left", async () => {
    let sent = false;
    const r = await clnrm(["run", join(import.meta.dirname, "signal-fixtures/slow.clnrm.toml"), "--verbose"], {
      onStdout: (chunk, pid) => {
        if (!sent && chunk.includes("step sleeps")) {
          sent = true;
          process.kill(pid, "SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(leftBy(r.pid)).toEqual([]);
  });
});

describe("bad input: exit 2, one line, no stack trace, nothing started", () => {
  const cases: [string, string, RegExp][] = [
    ["syntax", '[services.test\ntype = "x"\n', /syntax\.clnrm\.toml:1:\d+: TOML syntax error/],
    ["unknown-plugin", '[services.llm]\ntype = "olama"\n', /unknown-plugin\.clnrm\.toml:2:1: unknown service type 'olama'.*did you mean 'ollama'\?/],
    ["wrong-key", '[services.t]\ntype = "generic_container"\nimage = "alpine:latest"\nprots = ["80"]\n', /wrong-key\.clnrm\.toml:4:1: services\.t\.prots: unknown key 'prots' \(did you mean 'ports'\?\)/],
    ["bad-regex", '[[steps]]\nname = "x"\ncommand = "true"\nexpected_output_regex = "[a-"\n', /bad-regex\.clnrm\.toml:4:1: steps\[0\]\.expected_output_regex: invalid regular expression/],
    ["path-type", '[services.x]\ntype = "../../evil.js"\n', /path-type\.clnrm\.toml:2:1: .*not a plugin name/],
  ];
  it.each(cases)("%s", async (name, source, pattern) => {
    const f = file(`${name}.clnrm.toml`, source);
    for (const cmd of ["run", "validate"]) {
      const r = await clnrm([cmd, f]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(leftBy(r.pid)).toEqual([]);
    }
  });

  it("a missing file or an empty directory", async () => {
    const r = await clnrm(["run", join(scratch, "nope.clnrm.toml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such file or directory/);
  });

  it("an unreachable Docker daemon says how to start it and how to set DOCKER_HOST", async () => {
    const r = await clnrm(["run", fixture("seed.clnrm.toml")], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/);
    expect(r.stderr).toMatch(/DOCKER_HOST/);
  });

  it("validate accepts good files", async () => {
    const r = await clnrm(["validate", fixture("seed.clnrm.toml"), fixture("multi.clnrm.toml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ .*seed\.clnrm\.toml: 1 service\(s\), 1 step\(s\)/);
  });
});
