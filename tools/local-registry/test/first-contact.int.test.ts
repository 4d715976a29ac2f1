// A newcomer's first hour, end to end: the workspace published to an offline verdaccio, installed into
// fresh projects with npm and with pnpm and globally, then `clnrm init` + `run`, the spec's PLUGIN-001
// example files, the spec's /tmp check, the vitest example, the Node guard, and nothing left behind.
// Only image names are adapted (to the local test images: no registry pulls work here); the spec's
// files are the copies under packages/plugin-*/test/fixtures/spec/.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanNpmEnv, exec, publishWorkspace, REPO_ROOT, startLocalRegistry } from "../src/index.mjs";

type Registry = Awaited<ReturnType<typeof startLocalRegistry>>;
type Result = { code: number; stdout: string; stderr: string };
type Manager = "npm" | "pnpm";

// Kept between runs (outside the real caches) so third-party dependencies install from disk.
const NPM_CACHE = join(tmpdir(), "clnrm-e2e-npm-cache");
const PNPM_STORE = join(tmpdir(), "clnrm-e2e-pnpm-store");
const SPEC = (plugin: string) => join(REPO_ROOT, "packages", plugin, "test", "fixtures", "spec");
const OLD_NODE = "/usr/bin/node";

// The spec's `my-api:latest`: curl, and busybox httpd serving /api on 8080 (the same recipe as
// packages/plugin-chaos-engine/test/helpers.ts, so both build the same image).
const MY_API = "my-api:latest";
const MY_API_DOCKERFILE = `FROM clnrm-test/tools:latest
COPY --from=clnrm-test/busybox:latest /bin/busybox /usr/local/bin/busybox
RUN mkdir -p /www && echo ok > /www/api && echo ok > /www/index.html
LABEL org.clnrm.test-image=true org.clnrm.stand-in=my-api
CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
`;
// `clnrm init`'s nginx, as a local stand-in: busybox httpd on 80 with nginx's welcome page.
// Named apart from tools/test-images/ (clnrm-test/*), which would rebuild an image of its own name.
const NGINX = "clnrm-e2e/nginx-standin:latest";
const NGINX_DOCKERFILE = `FROM clnrm-test/busybox:latest
RUN mkdir -p /www && echo '<title>Welcome to nginx!</title>' > /www/index.html
LABEL org.clnrm.test-image=true org.clnrm.stand-in=nginx
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`;

let registry: Registry;
let versions: Record<string, string>;
const projects = {} as Record<Manager, string>;
let globalPrefix: string;
/** A folder outside any project, holding the spec's /tmp/test-plugin.clnrm.toml. */
let outside: string;
let userconfig: string;
const tmpDirs: string[] = [];
const runIds = new Set<string>();
/** Resources labelled clnrm.run before this file started (other test files' or users'). */
let resourcesBefore = new Set<string>();
const timings: [string, number][] = [];

async function timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push([phase, performance.now() - t0]);
  }
}

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanNpmEnv({
    npm_config_cache: NPM_CACHE,
    npm_config_userconfig: userconfig,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    // Third-party dependencies from the cache when it has them (the registry's port changes every run).
    npm_config_prefer_offline: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...extra,
  });
}

/** Runs a command and remembers every clnrm run id it printed, for the leak check at the end. */
async function sh(cmd: string, args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<Result> {
  const r: Result = await exec(cmd, args, { cwd, env: env(extra), timeoutMs: 240_000 });
  for (const m of `${r.stdout}\n${r.stderr}`.matchAll(/\(run ([A-Za-z0-9_-]+)\)/g)) runIds.add(m[1]!);
  return r;
}

/** A file's line in a `run` report; with --jobs > 1 each line is prefixed with `[file] `. */
const passedLine = (file: string) => new RegExp(`^(\\[\\S+\\] )?✓ passed ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} in `, "m");
const show = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
const lines = (r: Result) => `${r.stdout}\n${r.stderr}`.split("\n");
/** The project's clnrm as its package manager runs it. */
const clnrm = (pm: Manager, ...args: string[]) =>
  pm === "npm" ? sh("npx", ["--no", "--", "clnrm", ...args], projects.npm) : sh("pnpm", ["exec", "clnrm", ...args], projects.pnpm);

/** `npx @clnrm/cli …` from outside any project: the CLI from npx's cache. */
const npx = (...args: string[]) => sh("npx", ["--yes", `--@clnrm:registry=${registry.url}`, "--", "@clnrm/cli", ...args], outside);

function dockerBuild(tag: string, dockerfile: string): Promise<void> {
  return exec("docker", ["build", "-q", "-t", tag, "-"], { input: dockerfile, timeoutMs: 120_000 }).then((r: Result) => {
    if (r.code !== 0) throw new Error(`docker build ${tag} failed: ${r.stderr}`);
  });
}

/** Every container, network and volume labelled clnrm.run, as "kind id". */
function clnrmResources(): Set<string> {
  const out = new Set<string>();
  for (const [kind, args] of [
    ["container", ["ps", "-a", "-q", "--no-trunc"]],
    ["network", ["network", "ls", "-q", "--no-trunc"]],
    ["volume", ["volume", "ls", "-q"]],
  ] as const) {
    const ids = execFileSync("docker", [...args, "--filter", "label=clnrm.run"], { encoding: "utf8" }).split("\n").filter(Boolean);
    for (const id of ids) out.add(`${kind} ${id}`);
  }
  return out;
}

function writeProject(pm: Manager): string {
  // The vitest example is the project: a user's package.json with vitest, plus clnrm and its plugins.
  const dir = tmp(`clnrm-e2e-${pm}-`);
  cpSync(join(REPO_ROOT, "examples", "vitest"), dir, { recursive: true, filter: (src) => !/[/\\]node_modules([/\\]|$)/.test(src) });
  writeFileSync(join(dir, ".npmrc"), `@clnrm:registry=${registry.url}\n`);
  // Its `@clnrm/cli` range names released versions, which the snapshot (a prerelease) does not satisfy:
  // the install below adds it, as a user's `npm install -D @clnrm/cli` does.
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  expect(pkg.devDependencies["@clnrm/cli"]).toBeDefined();
  delete pkg.devDependencies["@clnrm/cli"];
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  return dir;
}

beforeAll(async () => {
  const t0 = performance.now();
  resourcesBefore = clnrmResources();
  mkdirSync(NPM_CACHE, { recursive: true });
  mkdirSync(PNPM_STORE, { recursive: true });
  userconfig = join(tmp("clnrm-e2e-home-"), ".npmrc");
  writeFileSync(userconfig, "");
  const images = timed("build stand-in images (my-api, nginx)", () => Promise.all([dockerBuild(MY_API, MY_API_DOCKERFILE), dockerBuild(NGINX, NGINX_DOCKERFILE)]));
  registry = await timed("start verdaccio", () => startLocalRegistry());
  const published = await timed("publish the workspace", () => publishWorkspace(registry));
  // A package without dist would be left out (and its dependents fail to install further down).
  expect(published.skipped, "packages without dist: build first").toEqual([]);
  versions = published.versions;

  projects.npm = writeProject("npm");
  projects.pnpm = writeProject("pnpm");
  globalPrefix = tmp("clnrm-e2e-global-");
  outside = tmp("clnrm-e2e-outside-");
  const plugins = (...names: string[]) => names.map((n) => `@clnrm/plugin-${n}`);
  // As a user types them: no versions (the snapshot is the registry's latest).
  const installs = await Promise.all([
    timed("npm install (project)", () =>
      sh("npm", ["install", "-D", "--no-audit", "@clnrm/cli", ...plugins("surrealdb", "ollama", "vllm", "otel-collector", "chaos-engine")], projects.npm),
    ),
    timed("pnpm add (project)", () => sh("pnpm", ["add", "-D", "--store-dir", PNPM_STORE, "@clnrm/cli", ...plugins("surrealdb", "otel-collector", "ollama")], projects.pnpm)),
    timed("npm i -g --prefix (global)", () =>
      sh("npm", ["i", "-g", "--no-audit", "--prefix", globalPrefix, "@clnrm/cli", `--@clnrm:registry=${registry.url}`], outside),
    ),
    // Fills npx's cache (the run from it is a test below).
    timed("npx @clnrm/cli (npx cache)", () => npx("--version")),
  ]);
  for (const r of installs) expect(r.code, show(r)).toBe(0);
  await images;
  timings.push(["setup total", performance.now() - t0]);
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  // npx keeps one folder per package spec; the snapshot's changes every run.
  rmSync(join(NPM_CACHE, "_npx"), { recursive: true, force: true });
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  const width = Math.max(...timings.map(([p]) => p.length));
  console.log(`first-contact e2e, time per phase:\n${timings.map(([p, ms]) => `  ${p.padEnd(width)}  ${(ms / 1000).toFixed(1)} s`).join("\n")}`);
});

describe.each(["npm", "pnpm"] as const)("installed with %s", (pm) => {
  it("has the snapshot versions, and clnrm plugins lists where each plugin resolves from", async () => {
    const t0 = performance.now();
    const cli = JSON.parse(readFileSync(join(projects[pm], "node_modules/@clnrm/cli/package.json"), "utf8"));
    expect(versions["@clnrm/cli"]).toMatch(/^\d+\.\d+\.\d+-e2e-\d{14}$/);
    expect(cli.version).toBe(versions["@clnrm/cli"]);
    const r = await clnrm(pm, "plugins");
    expect(r.code, show(r)).toBe(0);
    const row = (type: string) => r.stdout.split("\n").find((l) => l.startsWith(`${type} `))?.split(/\s{2,}/);
    // generic_container comes with the CLI; under pnpm's strict layout it is found beside the CLI.
    expect(row("generic_container")?.slice(0, 3)).toEqual(["generic_container", "@clnrm/plugin-generic-container", versions["@clnrm/plugin-generic-container"]]);
    expect(row("surrealdb")?.slice(0, 3)).toEqual(["surrealdb", "@clnrm/plugin-surrealdb", versions["@clnrm/plugin-surrealdb"]]);
    expect(row("surrealdb")).toContain("project");
    expect(r.stdout).not.toContain("@clnrm/plugin-kit");
    timings.push([`${pm}: versions + plugins`, performance.now() - t0]);
  });

  it("clnrm init, then clnrm run of what init wrote (images: local stand-ins)", async () => {
    await timed(`${pm}: init + run`, async () => {
      const init = await clnrm(pm, "init");
      expect(init.code, show(init)).toBe(0);
      const file = /^wrote (\S+)$/m.exec(init.stdout)?.[1];
      expect(file, show(init)).toBeDefined();
      // The CLI brings generic_container: no hint to install it.
      expect(init.stdout).not.toMatch(/install .*@clnrm\/plugin-generic-container/);

      const path = join(projects[pm], file!);
      const text = readFileSync(path, "utf8");
      // Its #:schema line points at the file the schema command it suggests writes.
      const schemaOut = /npx clnrm schema --output ([^\s)]+)/.exec(init.stdout)?.[1];
      expect(schemaOut, show(init)).toBeDefined();
      const schema = await clnrm(pm, "schema", "--output", schemaOut!);
      expect(schema.code, show(schema)).toBe(0);
      const ref = /^#:schema (\S+)$/m.exec(text)?.[1];
      expect(ref, text).toBeDefined();
      expect(JSON.parse(readFileSync(join(dirname(path), ref!), "utf8"))).toHaveProperty("$schema");
      const adapted = text.replace(/^(image\s*=\s*)"([^"]+)"/gm, (_all, key: string, image: string) => {
        if (image.startsWith("nginx:")) return `${key}"${NGINX}"`;
        if (image.startsWith("alpine:")) return `${key}"alpine:latest"`;
        throw new Error(`clnrm init wrote image "${image}": add a local stand-in for it to this test`);
      });
      expect(adapted).not.toBe(text);
      writeFileSync(path, adapted);

      const run = await clnrm(pm, "run", file!);
      expect(run.code, show(run)).toBe(0);
      // The starter's [meta] name is what the report shows.
      const name = /^name = "([^"]+)"/m.exec(adapted)?.[1];
      expect(name).toBeDefined();
      expect(run.stdout).toMatch(passedLine(name!));
      expect(run.stdout).toMatch(/^1 passed, 0 failed$/m);
    });
  });

  it("the vitest example (@clnrm/cli/api, await using) passes", async () => {
    const r = await timed(`${pm}: vitest example`, () => sh(pm, ["test"], projects[pm]));
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/Tests\s+1 passed \(1\)/);
  });

  it("the spec's /tmp/test-plugin.clnrm.toml, outside any project, from the project and by path to its bin", async () => {
    await timed(`${pm}: /tmp file (project install)`, async () => {
      const file = join(outside, "test-plugin.clnrm.toml");
      cpSync(join(SPEC("plugin-generic-container"), "test-plugin.clnrm.toml"), file);
      const fromProject = await clnrm(pm, "run", file);
      expect(fromProject.stderr).not.toContain("unknown service type");
      expect(fromProject.code, show(fromProject)).toBe(0);
      expect(fromProject.stdout).toMatch(/^1 passed, 0 failed$/m);

      const byPath = await sh(join(projects[pm], "node_modules", ".bin", "clnrm"), ["run", file], outside);
      expect(byPath.code, show(byPath)).toBe(0);
      expect(byPath.stdout).toMatch(passedLine("test-plugin.clnrm.toml"));
    });
  });
});

describe("the spec's PLUGIN-001 example files (npm project)", () => {
  const files: Record<string, string> = {};
  beforeAll(() => {
    // As a user keeps them: all in one folder of the project (otel-config.yaml and ./data beside them).
    const dir = join(projects.npm, "spec");
    for (const plugin of ["plugin-generic-container", "plugin-surrealdb", "plugin-ollama", "plugin-otel-collector", "plugin-chaos-engine"]) {
      cpSync(SPEC(plugin), dir, { recursive: true });
    }
    for (const f of ["generic-example", "test-generic-container", "test-plugin", "surrealdb-example", "test-surrealdb", "multi-service", "llm-example", "llm-testing", "otel-example", "chaos-example", "test-chaos-latency", "test-chaos-loss"]) {
      files[f] = join("spec", `${f}.clnrm.toml`);
      expect(existsSync(join(projects.npm, files[f]!)), files[f]).toBe(true);
    }
  });

  it("clnrm validate accepts every one of them", async () => {
    const r = await timed("spec: validate", () => clnrm("npm", "validate", "spec"));
    expect(r.code, show(r)).toBe(0);
    for (const f of Object.values(files)) expect(r.stdout, f).toMatch(new RegExp(`^✓ ${f.replace(/[.]/g, "\\.")}: `, "m"));
  });

  it("the runnable ones pass: generic (one-shot), test generic, surrealdb, otel, chaos, test chaos", async () => {
    const pass = ["test-plugin", "test-generic-container", "generic-example", "surrealdb-example", "otel-example", "chaos-example", "test-chaos-latency"];
    const r = await timed("spec: run the passing files (-j 3)", () => clnrm("npm", "run", "-j", "3", ...pass.map((f) => files[f]!)));
    expect(r.code, show(r)).toBe(0);
    for (const f of pass) expect(r.stdout, f).toMatch(passedLine(files[f]!));
    expect(r.stdout).toMatch(new RegExp(`^${pass.length} passed, 0 failed$`, "m"));
    // The generic example's `sh -c "echo hello"` is a one-shot service: it completes, it is not "ready".
    expect(lines(r)).toContainEqual(expect.stringMatching(/✓ service my_service completed/));
  });

  it("test-chaos-latency: the spec's curl step takes more than 0.2 s under chaos.network.latency_ms = 200 (measured time_total)", async () => {
    const r = await timed("spec: test-chaos-latency (json)", () => clnrm("npm", "run", "-r", "json", files["test-chaos-latency"]!));
    expect(r.code, show(r)).toBe(0);
    const report = JSON.parse(r.stdout) as { results: { status: string; steps: { name: string; stdout: string }[] }[] };
    const step = report.results[0]?.steps.find((s) => s.name === "test_with_latency");
    expect(step, r.stdout).toBeTruthy();
    // curl -w "%{time_total}" prints the seconds after the body: the last line of the step's output.
    const seconds = Number(step!.stdout.trim().split("\n").at(-1));
    console.log(`installed chaos_engine: curl localhost:8080 inside the target took ${seconds}s under 200 ms latency`);
    expect(seconds).toBeGreaterThan(0.2);
  });

  it("the LLM example asks for GPUs: one line naming the NVIDIA runtime, exit 2", async () => {
    const r = await timed("spec: llm-example", () => clnrm("npm", "run", files["llm-example"]!));
    expect(r.code, show(r)).toBe(2);
    expect(lines(r)).toContainEqual(expect.stringMatching(/^✗ error .*llm-example\.clnrm\.toml in .*no NVIDIA runtime.*gpu/));
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });

  it("a step command the image lacks (curl in ollama, surreal off PATH) gets one line naming it and the image, exit 1", async () => {
    await timed("spec: llm-testing + test-surrealdb", async () => {
      for (const [f, command, image] of [
        ["llm-testing", "curl", "clnrm-test/ollama-standin:latest"],
        ["test-surrealdb", "surreal", "clnrm-test/surrealdb-standin:latest"],
      ] as const) {
        const r = await clnrm("npm", "run", files[f]!);
        expect(r.code, show(r)).toBe(1);
        expect(lines(r), f).toContainEqual(expect.stringContaining(`'${command}' is not in image '${image}'`));
      }
    });
  });

  it("and the way out the line gives works: the LLM Testing step with image = a local image with curl passes", async () => {
    const src = readFileSync(join(projects.npm, files["llm-testing"]!), "utf8");
    const file = join("spec", "llm-testing-step-image.clnrm.toml");
    writeFileSync(join(projects.npm, file), src.replace(/^(service = "llm")$/m, '$1\nimage = "clnrm-test/tools:latest"'));
    const r = await timed("spec: llm-testing with a step image", () => clnrm("npm", "run", file));
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/✓ step test_inference/);
  });
});

describe("plugins under pnpm's strict layout (pnpm project)", () => {
  it("surrealdb, otel_collector (config_file beside the file) and ollama (plugin-kit) run from the registry install", async () => {
    const dir = join(projects.pnpm, "spec");
    for (const plugin of ["plugin-surrealdb", "plugin-otel-collector", "plugin-ollama"]) cpSync(SPEC(plugin), dir, { recursive: true });
    // The LLM Testing file with the step-level image the missing-curl line suggests.
    const llm = readFileSync(join(dir, "llm-testing.clnrm.toml"), "utf8").replace(/^(service = "llm")$/m, '$1\nimage = "clnrm-test/tools:latest"');
    writeFileSync(join(dir, "llm-testing.clnrm.toml"), llm);
    const files = ["surrealdb-example", "otel-example", "llm-testing"].map((f) => join("spec", `${f}.clnrm.toml`));
    const r = await timed("pnpm: surrealdb, otel, ollama spec files (-j 3)", () => clnrm("pnpm", "run", "-j", "3", ...files));
    expect(r.code, show(r)).toBe(0);
    for (const f of files) expect(r.stdout, f).toMatch(passedLine(f));
  });
});

describe("a global install (npm i -g --prefix, scoped registry flag)", () => {
  it("runs the spec's /tmp file from a folder outside any project", async () => {
    const file = join(outside, "test-plugin.clnrm.toml");
    cpSync(join(SPEC("plugin-generic-container"), "test-plugin.clnrm.toml"), file);
    // generic_container, the CLI's own dependency, resolves from beside the global CLI.
    const plugins = await sh(join(globalPrefix, "bin", "clnrm"), ["plugins"], outside);
    expect(plugins.code, show(plugins)).toBe(0);
    expect(plugins.stdout.split("\n").find((l) => l.startsWith("generic_container "))).toMatch(/\sbeside clnrm\s/);
    const r = await timed("global: /tmp file", () => sh(join(globalPrefix, "bin", "clnrm"), ["run", file], outside));
    expect(r.stderr).not.toContain("unknown service type");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(passedLine("test-plugin.clnrm.toml"));
  });
});

describe("npx @clnrm/cli, nothing installed", () => {
  it("runs the spec's /tmp file from a folder outside any project", async () => {
    const file = join(outside, "test-plugin.clnrm.toml");
    cpSync(join(SPEC("plugin-generic-container"), "test-plugin.clnrm.toml"), file);
    const r = await timed("npx: /tmp file", () => npx("run", file));
    expect(r.stderr).not.toContain("unknown service type");
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(passedLine("test-plugin.clnrm.toml"));
  });
});

const oldMajor = existsSync(OLD_NODE) ? Number(execFileSync(OLD_NODE, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" })) : 0;

describe.runIf(oldMajor > 0 && oldMajor < 22)(`${OLD_NODE} (Node ${oldMajor})`, () => {
  it("the installed bins print the one-line Node guard and exit 2", async () => {
    const bins = [
      join(projects.npm, "node_modules", "@clnrm", "cli", "dist", "bin.js"),
      join(projects.pnpm, "node_modules", "@clnrm", "cli", "dist", "bin.js"),
      join(globalPrefix, "lib", "node_modules", "@clnrm", "cli", "dist", "bin.js"),
    ];
    for (const bin of bins) {
      for (const args of [["--version"], ["run", join(outside, "test-plugin.clnrm.toml")]]) {
        const r = await sh(OLD_NODE, [bin, ...args], outside);
        expect(r.code, `${bin} ${args.join(" ")}\n${show(r)}`).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`clnrm needs Node.js 22 or newer (this is v${execFileSync(OLD_NODE, ["-p", "process.versions.node"], { encoding: "utf8" }).trim()})\n`);
      }
    }
    // The global bin through its `#!/usr/bin/env node` shebang, with the old node first on PATH.
    const shebang = await sh(join(globalPrefix, "bin", "clnrm"), ["plugins"], outside, { PATH: `/usr/bin:${process.env.PATH}` });
    expect(shebang.code, show(shebang)).toBe(2);
    expect(shebang.stderr).toMatch(/^clnrm needs Node\.js 22 or newer \(this is v\d+\.\d+\.\d+\)\n$/);
  });
});

describe("after everything", () => {
  it("nothing is left behind: no container, network or volume of any run", async () => {
    expect(runIds.size).toBeGreaterThanOrEqual(10);
    const left: string[] = [];
    for (const id of runIds) {
      for (const kind of ["container", "network", "volume"]) {
        const listArgs = kind === "container" ? ["ps", "-a", "-q"] : [kind, "ls", "-q"];
        const out = execFileSync("docker", [...listArgs, "--filter", `label=clnrm.run=${id}`], { encoding: "utf8" }).trim();
        if (out) left.push(`${kind} of run ${id}: ${out.replace(/\n/g, " ")}`);
      }
    }
    expect(left).toEqual([]);
  });

  // The vitest example's runs print no run id (it checks its own). In CI nothing else runs beside this
  // file (turbo --concurrency=1), so there every clnrm resource that appeared meanwhile counts; on a
  // shared machine other tests' live runs would.
  it.runIf(Boolean(process.env.CI))("CI: no clnrm.run resource appeared during this file", () => {
    const appeared = [...clnrmResources()].filter((r) => !resourcesBefore.has(r));
    expect(appeared).toEqual([]);
  });
});
