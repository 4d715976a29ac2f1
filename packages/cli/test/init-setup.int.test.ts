import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { GITHUB_WORKFLOW, GITLAB_CI } from "../src/commands/init.js";
import { bin } from "./helpers.js";

// `clnrm init --editor` and `--ci`: the files it writes, checked with the tools that read them
// (taplo lints through the written rule; the workflows parse as YAML and run clnrm with --shard),
// and what it writes without a terminal and without flags (only the test file).
// The scratch folders are inside this package, so the plugins the CLI depends on are installed there.
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-init-setup-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const taplo = join(dirname(createRequire(import.meta.url).resolve("@taplo/cli/package.json")), "dist/cli.js");

async function run(cwd: string, cmd: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, cmd, { cwd, env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}
const cli = (cwd: string, args: string[]) => run(cwd, [bin, ...args]);

/** A test file with no #:schema line: only the .taplo.toml rule can give it the schema. */
const MISSPELLED = '[meta]\nname = "x"\n\n[services.app]\ntype = "generic_container"\nimage = "alpine:latest"\nportz = ["80"]\n\n[[steps]]\nname = "s"\ncommand = ["true"]\n';

describe("clnrm init: editor and CI set-up", () => {
  it("without a terminal and without flags writes only the test file", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const r = await cli(cwd, ["init"]);
    expect(r.code, r.out).toBe(0);
    expect(existsSync(join(cwd, "tests/example.clnrm.toml"))).toBe(true);
    expect(existsSync(join(cwd, ".taplo.toml"))).toBe(false);
    expect(existsSync(join(cwd, "clnrm.schema.json"))).toBe(false);
    expect(existsSync(join(cwd, ".github"))).toBe(false);
    expect(existsSync(join(cwd, ".gitlab-ci.yml"))).toBe(false);
  });

  it("on a terminal it asks (a real pseudo-terminal, by util-linux script)", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const child = spawn("script", ["-qec", `'${process.execPath}' '${bin}' init`, "/dev/null"], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    const asked = new Set<string>();
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("[Y/n]") && !asked.has("editor")) {
        asked.add("editor");
        child.stdin.write("y\n");
      }
      if (out.includes("[github/gitlab/N]") && !asked.has("ci")) {
        asked.add("ci");
        child.stdin.write("github\n");
      }
    });
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code, out).toBe(0);
    expect([...asked]).toEqual(["editor", "ci"]);
    for (const f of ["tests/example.clnrm.toml", ".taplo.toml", "clnrm.schema.json", ".github/workflows/clnrm.yml"]) expect(existsSync(join(cwd, f)), f).toBe(true);
  });

  it("--editor: taplo applies the schema to *.clnrm.toml through the .taplo.toml rule", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    mkdirSync(join(cwd, "tests"));
    writeFileSync(join(cwd, "tests/nos.clnrm.toml"), MISSPELLED);
    // No rule yet: taplo has no schema for the file and finds nothing wrong.
    expect((await run(cwd, [taplo, "lint", "--colors", "never", "tests/nos.clnrm.toml"])).code).toBe(0);

    const r = await cli(cwd, ["init", "--editor"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("wrote .taplo.toml\nwrote clnrm.schema.json\n");
    const schema = JSON.parse(readFileSync(join(cwd, "clnrm.schema.json"), "utf8")) as { title?: string };
    expect(schema.title).toMatch(/clnrm/);

    const bad = await run(cwd, [taplo, "lint", "--colors", "never", "tests/nos.clnrm.toml"]);
    expect(bad.code, bad.out).not.toBe(0);
    expect(bad.out).toContain("schema validation failed");
    // The starter (its #:schema line points at the same file) lints clean, and validates.
    const good = await run(cwd, [taplo, "lint", "--colors", "never", "tests/example.clnrm.toml"]);
    expect(good.code, good.out).toBe(0);
  });

  it("--editor keeps an existing .taplo.toml's settings and adds the rule once", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    writeFileSync(join(cwd, ".taplo.toml"), "[formatting]\nalign_entries = true\n");
    const r = await cli(cwd, ["init", "t.clnrm.toml", "--editor"]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("wrote .taplo.toml (rule added)");
    const config = readFileSync(join(cwd, ".taplo.toml"), "utf8");
    expect(config.startsWith("[formatting]\nalign_entries = true\n")).toBe(true);
    expect(config.match(/\[\[rule\]\]/g)).toHaveLength(1);
    // Still one valid taplo config: fmt reads its settings (align_entries) and the rule.
    writeFileSync(join(cwd, "u.clnrm.toml"), '[meta]\nname = "x"\ndescription = "y"\n');
    expect((await cli(cwd, ["fmt", "u.clnrm.toml"])).code).toBe(0);
    expect(readFileSync(join(cwd, "u.clnrm.toml"), "utf8")).toBe('[meta]\nname        = "x"\ndescription = "y"\n');
    const again = await cli(cwd, ["init", "v.clnrm.toml", "--editor"]);
    expect(again.code, again.out).toBe(0);
    expect(readFileSync(join(cwd, ".taplo.toml"), "utf8").match(/\[\[rule\]\]/g)).toHaveLength(1);
  });

  it("--ci github writes a sharded workflow that runs clnrm on the tests' directory", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const r = await cli(cwd, ["init", "e2e/smoke.clnrm.toml", "--ci", "github"]);
    expect(r.code, r.out).toBe(0);
    const wf = parseYaml(readFileSync(join(cwd, ".github/workflows/clnrm.yml"), "utf8")) as {
      jobs: { clnrm: { strategy: { matrix: { shard: number[] } }; steps: { run?: string; uses?: string }[] } };
    };
    const job = wf.jobs.clnrm;
    const n = job.strategy.matrix.shard.length;
    expect(job.strategy.matrix.shard).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const runStep = job.steps.find((s) => s.run?.includes("clnrm run"))!;
    expect(runStep.run).toBe(`npx clnrm run e2e --shard \${{ matrix.shard }}/${n} --reporter github --output clnrm-\${{ matrix.shard }}.xml`);
    expect(job.steps.some((s) => s.uses?.startsWith("actions/upload-artifact"))).toBe(true);
    expect(job.steps.some((s) => s.uses?.startsWith("actions/cache"))).toBe(true);
    // The command it runs is one this clnrm takes (the starter validates with the same flags' parser).
    const shardRun = await cli(cwd, ["run", "e2e", "--shard", `1/${n}`, "--reporter", "github", "--output", "x.xml", "--filter", "no such test"]);
    expect(shardRun.out).not.toMatch(/unknown option|error: option/);
    // An existing workflow is not overwritten.
    const again = await cli(cwd, ["init", "e2e/other.clnrm.toml", "--ci", "github"]);
    expect(again.code).toBe(2);
    expect(again.out).toContain(".github/workflows/clnrm.yml already exists");
  });

  it("--ci gitlab writes a parallel job with a JUnit report", async () => {
    const cwd = mkdtempSync(join(scratch, "p-"));
    const r = await cli(cwd, ["init", "--ci", "gitlab"]);
    expect(r.code, r.out).toBe(0);
    const ci = parseYaml(readFileSync(join(cwd, ".gitlab-ci.yml"), "utf8")) as { clnrm: { parallel: number; script: string[]; artifacts: { reports: { junit: string } } } };
    expect(ci.clnrm.parallel).toBeGreaterThan(1);
    expect(ci.clnrm.script).toEqual(["npx clnrm run tests --shard $CI_NODE_INDEX/$CI_NODE_TOTAL --reporter junit --output clnrm.xml"]);
    expect(ci.clnrm.artifacts.reports.junit).toBe("clnrm.xml");
  });

  it("docs/ci.md shows the workflows init writes", () => {
    const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/ci.md"), "utf8");
    expect(doc).toContain(`\`\`\`yaml\n${GITHUB_WORKFLOW.replaceAll("__TESTS__", "tests")}\`\`\``);
    expect(doc).toContain(`\`\`\`yaml\n${GITLAB_CI.replaceAll("__TESTS__", "tests")}\`\`\``);
  });
});
