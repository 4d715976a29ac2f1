// `clnrm plugins info/install` against a fake registry (an HTTP server in this process): a type as a test
// file writes it, the scope's registry from .npmrc, and the compatibility checks before installing.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin } from "./helpers.js";

const core = (JSON.parse(readFileSync(join(import.meta.dirname, "../../core/package.json"), "utf8")) as { version: string }).version;

function packument(name: string, versions: Record<string, { apiVersion?: number; peerCore?: string }>, latest: string) {
  return {
    name,
    "dist-tags": { latest },
    versions: Object.fromEntries(
      Object.entries(versions).map(([v, m]) => [
        v,
        { name, version: v, keywords: ["clnrm-plugin"], clnrm: { types: [name], apiVersion: m.apiVersion ?? 1 }, peerDependencies: { "@clnrm/core": m.peerCore ?? `^${core}` } },
      ]),
    ),
  };
}

const packages: Record<string, unknown> = {
  "@acme/clnrm-plugin-redis": packument("@acme/clnrm-plugin-redis", { "1.0.0": {}, "2.0.0": { apiVersion: 99 } }, "2.0.0"),
  "@acme/clnrm-plugin-old": packument("@acme/clnrm-plugin-old", { "1.0.0": { peerCore: "^99.0.0" } }, "1.0.0"),
  "clnrm-plugin-kafka": packument("clnrm-plugin-kafka", { "1.0.0": {} }, "1.0.0"),
};
let server: Server;
let registry: string;
const dirs: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    const doc = packages[name];
    res.writeHead(doc ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(doc ?? { error: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A project whose default registry is unreachable and whose @acme scope uses the fake registry. */
function project(npmrc = `registry=http://127.0.0.1:9/\n@acme:registry=${"REGISTRY"}\n`): string {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-cli-registry-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", private: true }));
  writeFileSync(join(dir, ".npmrc"), npmrc.replaceAll("REGISTRY", registry));
  return dir;
}

function clnrm(cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...inherited, NO_COLOR: "1", npm_config_userconfig: join(cwd, ".no-user-npmrc") } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("plugins info / install take a type as written", () => {
  it("info @acme/redis asks the @acme registry for @acme/clnrm-plugin-redis", async () => {
    const r = await clnrm(project(), "plugins", "info", "@acme/redis@1.0.0");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("@clnrm/core");
    expect(r.stdout).toMatch(/^@acme\/clnrm-plugin-redis\s+third-party/);
    expect(r.stdout).toContain(`registry     ${registry}`);
    expect(r.stdout).toMatch(/version\s+1\.0\.0/);
  });

  it("info judges a plugin by its plugin API alone: a core range this clnrm is outside of still loads", async () => {
    const old = await clnrm(project(), "plugins", "info", "@acme/old");
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/plugin API\s+v1 \(loads in this clnrm/);
    expect(old.stdout).toMatch(/@clnrm\/core\s+\^99\.0\.0\n/);
    const v99 = await clnrm(project(), "plugins", "info", "@acme/redis@2.0.0");
    expect(v99.stdout).toMatch(/plugin API\s+v99 \(NOT loadable by this clnrm/);
  });

  it("an unknown scoped type names the package tried and the scope's registry (exit 2)", async () => {
    const r = await clnrm(project(), "plugins", "info", "@acme/nothing");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tried @acme/clnrm-plugin-nothing (${registry}), @acme/nothing (${registry})`);
    expect(r.stderr).not.toContain("at ");
  });

  // The one compatibility rule is the plugin API version: a `@clnrm/core` peer range alone refuses nothing (marketplace loader tests).
  it("install refuses a plugin API this clnrm doesn't load, before installing anything", async () => {
    const dir = project();
    const api = await clnrm(dir, "plugins", "install", "--yes", "@acme/redis");
    expect(api.code).toBe(2);
    expect(api.stderr).toContain(`@acme/clnrm-plugin-redis@2.0.0 (from ${registry}) uses plugin API v99`);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).devDependencies).toBeUndefined();
  });

  it("refuses a third-party install without a terminal and without --yes (exit 2), installing nothing", async () => {
    const dir = project(`registry=${"REGISTRY"}\n`);
    const r = await clnrm(dir, "plugins", "install", "kafka");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("third-party plugin clnrm-plugin-kafka runs code with your permissions during tests; review it");
    expect(r.stderr).toContain("pass --yes");
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).devDependencies).toBeUndefined();
  });
});
