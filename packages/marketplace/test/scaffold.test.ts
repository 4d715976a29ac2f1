import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pluginNames, scaffoldPlugin } from "../src/index.js";
import { cleanup, tempDir, write } from "./fixtures.js";

afterEach(cleanup);

const REPO = resolve(import.meta.dirname, "../../..");

describe("plugin names", () => {
  it("derives the package from the type, and the type from a package name", () => {
    expect(pluginNames("kafka")).toMatchObject({ type: "kafka", packageName: "clnrm-plugin-kafka" });
    expect(pluginNames("@acme/hello")).toMatchObject({ type: "@acme/hello", packageName: "@acme/clnrm-plugin-hello" });
    expect(pluginNames("@acme/clnrm-plugin-hello")).toMatchObject({ type: "@acme/hello", packageName: "@acme/clnrm-plugin-hello" });
    expect(() => pluginNames("Bad Name")).toThrow("is not a valid plugin name");
    expect(() => pluginNames("../x")).toThrow("is not a valid plugin name");
    expect(() => pluginNames("@clnrm/x")).toThrow("official plugins");
  });
});

describe("scaffold", () => {
  it("writes a complete, discoverable plugin package", () => {
    const parent = tempDir();
    const r = scaffoldPlugin({ name: "@acme/hello", parentDir: parent, coreVersion: "0.3.1" });
    expect(r.dir).toBe(join(parent, "clnrm-plugin-hello"));
    expect(readdirSync(r.dir).sort()).toEqual([".gitignore", "README.md", "package.json", "src", "test", "tsconfig.build.json", "tsconfig.json"]);
    const pkg = JSON.parse(readFileSync(join(r.dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "@acme/clnrm-plugin-hello",
      type: "module",
      keywords: expect.arrayContaining(["clnrm-plugin"]),
      clnrm: { types: ["@acme/hello"], apiVersion: 1 },
      // Peer on the contract by plugin API major, not on core: a core minor leaves it loadable and installable.
      peerDependencies: { "@clnrm/plugin-api": "^1.0.0" },
      dependencies: { "@clnrm/plugin-kit": "^0.3.1" },
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
      files: ["dist", "README.md"],
      publishConfig: { access: "public" },
    });
    expect(pkg.scripts).toMatchObject({ build: expect.any(String), test: "vitest run" });
    const src = readFileSync(join(r.dir, "src/index.ts"), "utf8");
    expect(src).toContain('import { type ContainerSpec, definePlugin, HealthStatus, runOptions } from "@clnrm/plugin-api"');
    expect(src).toContain('import { envSchema, z } from "@clnrm/plugin-kit"');
    expect(src).not.toContain('from "@clnrm/core"');
    expect(src).toContain('type: "@acme/hello"');
    expect(src).toContain('secretFields: ["token"]');
    // No stop boilerplate: the lifecycle removes the handle's containers.
    expect(src).not.toMatch(/async stop\(|\.remove\(\)/);
    expect(readFileSync(join(r.dir, "test/plugin.test.ts"), "utf8")).toContain('import { pluginConformance } from "@clnrm/core/testing"');
    expect(readFileSync(join(r.dir, "README.md"), "utf8")).toContain('type = "@acme/hello"');
  });

  it("sets publishConfig.registry for a private registry, and refuses a non-empty directory", () => {
    const parent = tempDir();
    const r = scaffoldPlugin({ name: "kafka", parentDir: parent, registry: "https://npm.acme.example/", coreVersion: "0.1.0" });
    expect(JSON.parse(readFileSync(join(r.dir, "package.json"), "utf8")).publishConfig).toEqual({ registry: "https://npm.acme.example/" });
    expect(() => scaffoldPlugin({ name: "kafka", parentDir: parent })).toThrow("already exists and is not empty");
  });

  it("typechecks against the workspace's @clnrm/plugin-api, @clnrm/plugin-kit, @clnrm/core, @clnrm/docker and vitest", () => {
    const parent = tempDir();
    const r = scaffoldPlugin({ name: "@acme/hello", parentDir: parent });
    const dist = (p: string) => join(REPO, "packages", p, "dist");
    // The scaffold's own tsconfig, with the workspace packages mapped in (they aren't installed here).
    write(
      join(r.dir, "tsconfig.check.json"),
      JSON.stringify({
        extends: "./tsconfig.json",
        compilerOptions: {
          typeRoots: [join(REPO, "node_modules/@types")],
          paths: {
            "@clnrm/core": [join(dist("core"), "index.d.ts")],
            "@clnrm/core/testing": [join(dist("core"), "testing/index.d.ts")],
            "@clnrm/plugin-api": [join(dist("plugin-api"), "index.d.ts")],
            "@clnrm/plugin-kit": [join(dist("plugin-kit"), "index.d.ts")],
            "@clnrm/docker": [join(dist("docker"), "index.d.ts")],
            vitest: [join(REPO, "node_modules/vitest/dist/index.d.ts")],
          },
        },
      }),
    );
    const tsc = join(REPO, "node_modules/typescript/bin/tsc");
    const out = (() => {
      try {
        return execFileSync(process.execPath, [tsc, "-p", join(r.dir, "tsconfig.check.json")], { encoding: "utf8" });
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? err);
      }
    })();
    expect(out).toBe("");
  }, 60_000);
});
