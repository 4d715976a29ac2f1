import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const BIN = resolve(import.meta.dirname, "../dist/bin.js");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-cli-plugins-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", private: true }));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

function clnrm(cwd: string, ...args: string[]) {
  // As a user's shell would: without the npm_config_* that pnpm/npm put in a script's environment
  // (npm_config_registry there would override the project's .npmrc, as it does for npm).
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
  const env: NodeJS.ProcessEnv = { ...inherited, NO_COLOR: "1", npm_config_userconfig: join(cwd, ".no-user-npmrc") };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("clnrm plugins", () => {
  it("lists installed plugins (type, package, version, API, official/third-party) without importing them", () => {
    const dir = project({
      "node_modules/@acme/clnrm-plugin-hello/package.json": JSON.stringify({
        name: "@acme/clnrm-plugin-hello",
        version: "1.2.3",
        keywords: ["clnrm-plugin"],
        clnrm: { types: ["@acme/hello"], apiVersion: 1 },
        main: "index.js",
      }),
      "node_modules/@acme/clnrm-plugin-hello/index.js": "throw new Error('imported!')",
    });
    const r = clnrm(dir, "plugins");
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("@acme/hello "));
    expect(row?.split(/\s+/).slice(0, 5)).toEqual(["@acme/hello", "@acme/clnrm-plugin-hello", "1.2.3", "v1", "third-party"]);
    expect(row?.split(/\s+/)[5]).toBe("project");
    const json = JSON.parse(clnrm(dir, "plugins", "list", "--json").stdout);
    expect(json.installed.filter((p: { from: string }) => p.from === "project")).toHaveLength(1);
  });

  it("shows where each plugin resolves from: generic_container beside clnrm, never @clnrm/plugin-kit", () => {
    const dir = project({
      "node_modules/@clnrm/plugin-kit/package.json": JSON.stringify({ name: "@clnrm/plugin-kit", version: "0.1.0", keywords: ["clnrm", "testing"] }),
    });
    const r = clnrm(dir, "plugins");
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.startsWith("generic_container "));
    expect(row).toContain("@clnrm/plugin-generic-container");
    expect(row).toContain("beside clnrm");
    expect(r.stdout).not.toContain("plugin-kit");
    const json = JSON.parse(clnrm(dir, "plugins", "--json").stdout) as { installed: { type: string; from: string }[]; available: { type: string }[] };
    expect(json.installed.find((p) => p.type === "generic_container")?.from).toBe("cli");
    expect(json.available.map((a) => a.type)).not.toContain("generic_container");
  });

  it("scaffolds a plugin package", () => {
    const dir = project();
    const r = clnrm(dir, "plugins", "new", "@acme/kafka");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('created @acme/clnrm-plugin-kafka (type "@acme/kafka") in clnrm-plugin-kafka');
    const pkg = JSON.parse(readFileSync(join(dir, "clnrm-plugin-kafka/package.json"), "utf8"));
    // A plugin peers on the contract only (its apiVersion decides compatibility, not core's version).
    expect(pkg.peerDependencies["@clnrm/plugin-api"]).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(pkg.peerDependencies["@clnrm/core"]).toBeUndefined();
    const again = clnrm(dir, "plugins", "new", "@acme/kafka");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists and is not empty");
  });

  it("reports an unreachable registry on one line (exit 2)", () => {
    const dir = project({ ".npmrc": "registry=http://127.0.0.1:9/\n" });
    const r = clnrm(dir, "plugins", "search", "kafka");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("registry http://127.0.0.1:9/ is unreachable");
  });
});

