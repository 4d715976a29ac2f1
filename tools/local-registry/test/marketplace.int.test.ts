// End to end: publish the workspace to an offline verdaccio under a changesets snapshot version, then
// install and use it from a clean project outside the workspace, like a user would.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addChangeset,
  changesetVersion,
  cleanNpmEnv,
  copyVersions,
  exec,
  packument,
  publishCopy,
  publishDir,
  publishWorkspace,
  startLocalRegistry,
} from "../src/index.mjs";

type Registry = Awaited<ReturnType<typeof startLocalRegistry>>;

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "acme-clnrm-plugin-hello");
// Outside the real npm cache, kept between runs so reinstalling third-party dependencies is quick.
const NPM_CACHE = join(tmpdir(), "clnrm-e2e-npm-cache");

let registry: Registry;
let versions: Record<string, string>;
let copyDir: string;
let project: string;
let cleanup: (() => void) | undefined;
const tmpDirs: string[] = [];

function env(): NodeJS.ProcessEnv {
  return cleanNpmEnv({
    npm_config_cache: NPM_CACHE,
    npm_config_userconfig: join(project, ".user-npmrc"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    // Third-party dependencies from the cache when it has them (the local registry's port changes every run).
    npm_config_prefer_offline: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });
}

/** The project's .npmrc: @clnrm and @acme from the local registry, everything else from npm; token optional. */
function writeNpmrc(withToken: boolean): void {
  const lines = [`@clnrm:registry=${registry.url}`, `@acme:registry=${registry.url}`];
  if (withToken) lines.push(`//${new URL(registry.url).host}/:_authToken=\${CLNRM_E2E_TOKEN}`);
  writeFileSync(join(project, ".npmrc"), `${lines.join("\n")}\n`);
}

const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
  exec(cmd, args, { cwd: project, env: { ...env(), CLNRM_E2E_TOKEN: registry.token, ...extra }, timeoutMs: 240_000 });
const clnrm = (...args: string[]) => run("npx", ["--no", "clnrm", ...args]);

function containersOfRun(output: string): string {
  const runId = /\(run ([A-Za-z0-9_-]+)\)/.exec(output)?.[1];
  expect(runId, `no run id in:\n${output}`).toBeDefined();
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

beforeAll(async () => {
  registry = await startLocalRegistry();
  const published = await publishWorkspace(registry, { keepCopy: true });
  versions = published.versions;
  copyDir = published.copyDir;
  cleanup = published.cleanup;

  // The company plugin, peer-depending on this snapshot's core.
  const fixture = mkdtempSync(join(tmpdir(), "clnrm-acme-fixture-"));
  tmpDirs.push(fixture);
  cpSync(FIXTURE, fixture, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(fixture, "package.json"), "utf8"));
  pkg.peerDependencies["@clnrm/core"] = `^${versions["@clnrm/core"]}`;
  writeFileSync(join(fixture, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  await publishDir(fixture, registry);

  project = mkdtempSync(join(tmpdir(), "clnrm-e2e-project-"));
  tmpDirs.push(project);
  mkdirSync(NPM_CACHE, { recursive: true });
  writeFileSync(join(project, ".user-npmrc"), "");
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "e2e-project", private: true, type: "module" }, null, 2)}\n`);
  writeNpmrc(false);
  const install = await run("npm", [
    "install",
    "--no-audit",
    `@clnrm/cli@${versions["@clnrm/cli"]}`,
    `@clnrm/plugin-generic-container@${versions["@clnrm/plugin-generic-container"]}`,
  ]);
  expect(install.code, install.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  cleanup?.();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe("published snapshot, installed from the local registry", () => {
  it("installs the snapshot versions", () => {
    expect(versions["@clnrm/cli"]).toMatch(/^\d+\.\d+\.\d+-e2e-\d{14}$/);
    const cli = JSON.parse(readFileSync(join(project, "node_modules/@clnrm/cli/package.json"), "utf8"));
    expect(cli.version).toBe(versions["@clnrm/cli"]);
    // workspace:^ became the snapshot version.
    expect(cli.dependencies["@clnrm/core"]).toBe(`^${versions["@clnrm/core"]}`);
    const core = JSON.parse(readFileSync(join(project, "node_modules/@clnrm/core/package.json"), "utf8"));
    expect(core.version).toBe(versions["@clnrm/core"]);
  });

  it("clnrm plugins lists the installed plugin with its snapshot version", async () => {
    const r = await clnrm("plugins");
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("generic_container "));
    expect(row).toBeDefined();
    expect(row!.split(/\s+/).slice(0, 5)).toEqual([
      "generic_container",
      "@clnrm/plugin-generic-container",
      versions["@clnrm/plugin-generic-container"],
      "v1",
      "official",
    ]);
  });

  it("clnrm run runs a generic_container test and leaves no container", async () => {
    writeFileSync(
      join(project, "generic.clnrm.toml"),
      `[meta]\nname = "generic from the registry"\n\n[services.box]\ntype = "generic_container"\nimage = "alpine:latest"\n\n[[steps]]\nname = "echo"\nservice = "box"\ncommand = ["echo", "hello-from-generic"]\nexpected_output_regex = "hello-from-generic"\n`,
    );
    const r = await clnrm("run", "generic.clnrm.toml");
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(containersOfRun(r.stdout + r.stderr)).toBe("");
  });
});

describe("a company plugin in a private scope", () => {
  it("can't be installed without the token", async () => {
    const r = await run("npm", ["install", "--no-audit", "@acme/clnrm-plugin-hello"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/E401|E404|401|404/);
  });

  it("is hidden from an anonymous search and found with the token", async () => {
    const anon = await clnrm("plugins", "search", "hello");
    expect(anon.code, anon.stderr).toBe(0);
    expect(anon.stdout).not.toContain("@acme/clnrm-plugin-hello");

    writeNpmrc(true);
    const authed = await clnrm("plugins", "search", "hello");
    expect(authed.code, authed.stderr).toBe(0);
    const row = authed.stdout.split("\n").find((l) => l.startsWith("@acme/clnrm-plugin-hello "));
    expect(row?.split(/\s+/).slice(0, 3)).toEqual(["@acme/clnrm-plugin-hello", "1.0.0", "third-party"]);
  });

  it("needs --yes to install without a terminal, then installs with the token", async () => {
    writeNpmrc(true);
    const refused = await clnrm("plugins", "install", "@acme/clnrm-plugin-hello");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("third-party plugin @acme/clnrm-plugin-hello runs code with your permissions");
    expect(refused.stderr).toContain("--yes");

    const r = await clnrm("plugins", "install", "--yes", "@acme/clnrm-plugin-hello");
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('installed @acme/clnrm-plugin-hello@1.0.0  type "@acme/hello"');
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    expect(pkg.devDependencies["@acme/clnrm-plugin-hello"]).toBeDefined();

    const info = await clnrm("plugins", "info", "@acme/clnrm-plugin-hello");
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/installed\s+1\.0\.0/);
    expect(info.stdout).toMatch(/types\s+@acme\/hello/);
  });

  it('resolves type = "@acme/hello" to @acme/clnrm-plugin-hello and runs it', async () => {
    writeFileSync(
      join(project, "hello.clnrm.toml"),
      `[meta]\nname = "company plugin"\n\n[services.greeter]\ntype = "@acme/hello"\ngreeting = "hi from acme e2e"\n\n[[steps]]\nname = "greet"\nservice = "greeter"\ncommand = ["sh", "-c", "echo $GREETING"]\nexpected_output_regex = "hi from acme e2e"\n`,
    );
    const r = await clnrm("run", "hello.clnrm.toml");
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(containersOfRun(r.stdout + r.stderr)).toBe("");
  });
});

describe("independent versioning", () => {
  it("a changeset for plugin-ollama versions and publishes only plugin-ollama", async () => {
    const before = copyVersions(copyDir);
    addChangeset(copyDir, "ollama-only", { "@clnrm/plugin-ollama": "patch" }, "Fix ollama");
    await changesetVersion(copyDir);
    const after = copyVersions(copyDir);
    const changed = Object.keys(after).filter((n) => after[n] !== before[n]);
    expect(changed).toEqual(["@clnrm/plugin-ollama"]);
    expect(after["@clnrm/plugin-ollama"]).not.toBe(before["@clnrm/plugin-ollama"]);

    await publishCopy(copyDir, registry);
    for (const name of Object.keys(after)) {
      const doc = await packument(registry, name);
      const published = Object.keys(doc.versions).sort();
      if (name === "@clnrm/plugin-ollama") expect(published).toEqual([before[name], after[name]].sort());
      else expect(published, name).toEqual([before[name]]);
    }
  });
});
