import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PluginNotFoundError, ValidationError } from "@clnrm/core";
import { afterEach, describe, expect, it } from "vitest";
import { PluginLoader, resolvePlugin } from "../src/index.js";
import { addPackage, cleanup, defSource, importCount, makeProject, tempDir, write } from "./fixtures.js";

const coreVersion = (createRequire(import.meta.url)("@clnrm/core/package.json") as { version: string }).version;

afterEach(cleanup);

/** A loader that searches only the test file's project: not the cwd (this workspace) nor beside this package. */
const isolated = () => new PluginLoader({ cwd: tempDir(), cliDirs: [] });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("resolution order", () => {
  function projectWithAll(): string {
    const root = makeProject();
    addPackage(root, "@clnrm/plugin-hello");
    addPackage(root, "clnrm-plugin-hello");
    addPackage(root, "hello");
    addPackage(root, "my-hello");
    return root;
  }

  it("an explicit package wins", async () => {
    const root = projectWithAll();
    const r = await isolated().resolvePlugin("hello", { projectDir: root, explicitPackage: "my-hello" });
    expect(r.package).toBe("my-hello");
    expect(r.definition.description).toBe("my-hello plugin");
    expect(importCount(root, "@clnrm/plugin-hello")).toBe(0);
  });

  it("an explicit package does not fall back to the conventions", async () => {
    const root = projectWithAll();
    const err = await rejection(isolated().resolvePlugin("hello", { projectDir: root, explicitPackage: "other-hello" }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
    expect((err as PluginNotFoundError).candidates).toEqual(["other-hello"]);
    expect(err.message).toBe("plugin package 'other-hello' for service type 'hello' is not installed");
  });

  it("then the official package (alias table)", async () => {
    const root = projectWithAll();
    addPackage(root, "@clnrm/plugin-generic-container", { clnrm: { types: ["generic_container"] } });
    addPackage(root, "clnrm-plugin-generic_container", { clnrm: { types: ["generic_container"] } });
    const loader = isolated();
    const gc = await loader.resolvePlugin("generic_container", { projectDir: root });
    expect(gc.package).toBe("@clnrm/plugin-generic-container");
    expect(gc.official).toBe(true);
    expect(gc.source).toBe("@clnrm/plugin-generic-container@1.0.0");
    const hello = await loader.resolvePlugin("hello", { projectDir: root });
    expect(hello.package).toBe("@clnrm/plugin-hello");
  });

  it("then clnrm-plugin-X, then the raw name", async () => {
    const a = makeProject();
    addPackage(a, "clnrm-plugin-hello");
    addPackage(a, "hello");
    const r1 = await isolated().resolvePlugin("hello", { projectDir: a });
    expect(r1.package).toBe("clnrm-plugin-hello");
    expect(r1.official).toBe(false);
    expect(importCount(a, "hello")).toBe(0);

    const b = makeProject();
    addPackage(b, "hello");
    const r2 = await isolated().resolvePlugin("hello", { projectDir: b });
    expect(r2.package).toBe("hello");
  });

  it("maps @scope/name to @scope/clnrm-plugin-name before the raw name", async () => {
    const root = makeProject();
    addPackage(root, "@acme/clnrm-plugin-db", { clnrm: { types: ["@acme/db"] } });
    addPackage(root, "@acme/db", { clnrm: { types: ["@acme/db"] } });
    const r = await isolated().resolvePlugin("@acme/db", { projectDir: root });
    expect(r.package).toBe("@acme/clnrm-plugin-db");
    expect(r.type).toBe("@acme/db");

    const only = makeProject();
    addPackage(only, "@acme/db", { clnrm: { types: ["@acme/db"] } });
    expect((await isolated().resolvePlugin("@acme/db", { projectDir: only })).package).toBe("@acme/db");
  });

  it("skips a raw-name package that is not declared as a plugin, without importing it", async () => {
    const root = makeProject();
    addPackage(root, "redis", { keywords: ["database"], clnrm: null });
    const err = await rejection(isolated().resolvePlugin("redis", { projectDir: root }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
    expect((err as PluginNotFoundError).hint).toContain("'redis' is installed but is not a clnrm plugin");
    expect(importCount(root, "redis")).toBe(0);
  });
});

describe("resolution from the project directory", () => {
  it("finds an ESM-only package (an \"import\"-only export) and a pnpm-style symlinked one", async () => {
    const root = makeProject();
    const dir = addPackage(root, "clnrm-plugin-esm", { clnrm: { types: ["esm"] } });
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    write(join(dir, "package.json"), JSON.stringify({ ...pkg, exports: { ".": { import: "./index.js" } } }));
    expect((await isolated().resolvePlugin("esm", { projectDir: root })).entry).toBe(join(dir, "index.js"));

    const store = addPackage(root, "clnrm-plugin-linked", { clnrm: { types: ["linked"] } }, join(root, "node_modules", ".pnpm", "clnrm-plugin-linked@1.0.0", "node_modules", "clnrm-plugin-linked"));
    symlinkSync(store, join(root, "node_modules", "clnrm-plugin-linked"), "dir");
    const linked = await isolated().resolvePlugin("linked", { projectDir: root });
    expect(linked.version).toBe("1.0.0");
    expect(linked.packageDir).toBe(realpathSync(store));
  });

  it("finds packages walking up from the project dir, not from where clnrm is installed", async () => {
    const workspace = tempDir();
    addPackage(workspace, "clnrm-plugin-hello");
    const nested = makeProject({ dir: join(workspace, "packages", "app", "tests") });
    const r = await isolated().resolvePlugin("hello", { projectDir: nested });
    expect(r.packageDir).toContain(workspace);

    // a sibling project outside the workspace can't see it
    const outside = makeProject();
    const err = await rejection(isolated().resolvePlugin("hello", { projectDir: outside }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
  });

  it("does not see the packages installed next to clnrm itself", async () => {
    // `semver` (and @clnrm/core) resolve from this package, but not from a temp project
    const project = makeProject();
    const err = await rejection(isolated().resolvePlugin("semver", { projectDir: project }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
    expect((err as PluginNotFoundError).candidates).toEqual(["@clnrm/plugin-semver", "clnrm-plugin-semver", "semver"]);
  });

  it("never imports a Node built-in for a raw name", async () => {
    const project = makeProject();
    const err = await rejection(isolated().resolvePlugin("fs", { projectDir: project }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
  });
});

describe("resolution beyond the test file's project", () => {
  it("then from the cwd's project, then beside the running CLI, and says where from", async () => {
    const outside = tempDir(); // a test file in a directory with no project, like /tmp
    const cwd = makeProject();
    const cli = makeProject();
    addPackage(cwd, "clnrm-plugin-incwd", { clnrm: { types: ["incwd"] } });
    addPackage(cli, "@clnrm/plugin-generic-container", { clnrm: { types: ["generic_container"] } });
    addPackage(cli, "clnrm-plugin-incwd", { version: "2.0.0", clnrm: { types: ["incwd"] } });
    const loader = new PluginLoader({ cwd, cliDirs: [join(cli, "node_modules", "@clnrm", "cli", "dist")] });
    const gc = await loader.resolvePlugin("generic_container", { projectDir: outside });
    expect([gc.from, gc.packageDir]).toEqual(["cli", join(cli, "node_modules", "@clnrm", "plugin-generic-container")]);
    const inCwd = await loader.resolvePlugin("incwd", { projectDir: outside });
    expect([inCwd.from, inCwd.version]).toEqual(["cwd", "1.0.0"]);
    addPackage(outside, "clnrm-plugin-incwd", { version: "3.0.0", clnrm: { types: ["incwd"] } });
    const own = await new PluginLoader({ cwd, cliDirs: [] }).resolvePlugin("incwd", { projectDir: outside });
    expect([own.from, own.version]).toEqual(["project", "3.0.0"]);
  });

  it("a typo's hint names the installed plugin beside the CLI instead of telling the user to install it", async () => {
    const cli = makeProject();
    addPackage(cli, "@clnrm/plugin-generic-container", { clnrm: { types: ["generic_container"] } });
    const loader = new PluginLoader({ cwd: tempDir(), cliDirs: [cli] });
    const err = (await rejection(loader.resolvePlugin("generic_containr", { projectDir: tempDir() }))) as PluginNotFoundError;
    expect(err.hint).toContain("did you mean 'generic_container'? (@clnrm/plugin-generic-container is installed)");
    expect(err.hint).not.toContain("add -D");
  });
});

describe("paths and URLs as types", () => {
  it.each(["./evil.js", "../evil.js", "EVIL_ABS", "EVIL_URL", "data:text/javascript,globalThis.x=1", "node:fs", "evil\\x"])(
    "refuses %s without importing anything",
    async (raw) => {
      const root = makeProject();
      write(join(root, "sub", "package.json"), "{}");
      const evil = join(root, "evil.js");
      const marker = join(root, "evil-imported");
      write(evil, `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(marker)}, "1"); export default {};\n`);
      const type = raw === "EVIL_ABS" ? evil : raw === "EVIL_URL" ? `file://${evil}` : raw;
      const projectDir = raw.startsWith("../") ? join(root, "sub") : root;
      const err = await rejection(isolated().resolvePlugin(type, { projectDir }));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(/^type ".*" is not a plugin name/);
      if (type === "./evil.js") {
        expect(err.message).toBe('type "./evil.js" is not a plugin name: a local plugin needs an explicit package = "./path"');
      }
      expect(existsSync(marker)).toBe(false);
    },
  );
});

describe("explicit local packages", () => {
  it("loads a relative directory with a package.json, resolved against the project dir", async () => {
    const root = makeProject();
    addPackage(root, "local-hello", {}, join(root, "local-plugin"));
    const r = await isolated().resolvePlugin("hello", { projectDir: root, explicitPackage: "./local-plugin" });
    expect(r.package).toBe("./local-plugin");
    expect(r.packageDir).toBe(join(root, "local-plugin"));
    expect(r.version).toBe("1.0.0");
    expect(r.official).toBe(false);
  });

  it("loads a relative file, and ../ paths", async () => {
    const root = makeProject();
    write(join(root, "plugins", "one.js"), `export default ${defSource("one")};\n`);
    const testDir = join(root, "tests");
    write(join(testDir, "x.clnrm.toml"), "");
    const r = await isolated().resolvePlugin("one", { projectDir: testDir, explicitPackage: "../plugins/one.js" });
    expect(r.entry).toBe(join(root, "plugins", "one.js"));
    expect(r.packageDir).toBeUndefined();
    expect(r.source).toBe("../plugins/one.js");
  });

  it("refuses a local path outside the test file's project before touching it, unless CLNRM_ALLOW_EXTERNAL_PLUGINS=1", async () => {
    const workspace = tempDir();
    write(join(workspace, "outside.js"), `import { appendFileSync } from "node:fs"; appendFileSync(${JSON.stringify(join(workspace, "imported"))}, "x");\nexport default ${defSource("one")};\n`);
    const root = makeProject({ dir: join(workspace, "app") });
    const tests = join(root, "tests");
    write(join(tests, "x.clnrm.toml"), "");
    for (const spec of ["../../outside.js", "../../../../../../../../etc/passwd"]) {
      const err = await rejection(isolated().resolvePlugin("one", { projectDir: tests, explicitPackage: spec }));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toContain(`local plugin '${spec}'`);
      expect(err.message).toContain(`outside the test file's project ${root}`);
    }
    // a symlink inside the project that points out of it is outside too
    symlinkSync(join(workspace, "outside.js"), join(root, "link.js"));
    expect(await rejection(isolated().resolvePlugin("one", { projectDir: tests, explicitPackage: "../link.js" }))).toBeInstanceOf(ValidationError);
    expect(existsSync(join(workspace, "imported"))).toBe(false);

    process.env.CLNRM_ALLOW_EXTERNAL_PLUGINS = "1";
    try {
      expect((await isolated().resolvePlugin("one", { projectDir: tests, explicitPackage: "../../outside.js" })).entry).toBe(join(workspace, "outside.js"));
    } finally {
      delete process.env.CLNRM_ALLOW_EXTERNAL_PLUGINS;
    }
  });

  it("reports a missing local plugin", async () => {
    const root = makeProject();
    const err = await rejection(isolated().resolvePlugin("hello", { projectDir: root, explicitPackage: "./nope" }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
    expect(err.message).toBe("local plugin './nope' for service type 'hello' not found");
    expect((err as PluginNotFoundError).hint).toContain(join(root, "nope"));
  });
});

describe("checks", () => {
  it("refuses a package whose default export is not a branded definition", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-hello", { defaultExport: `{ type: "hello", create() {} }` });
    const err = await rejection(isolated().resolvePlugin("hello", { projectDir: root }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe(
      "package 'clnrm-plugin-hello' does not export a clnrm plugin (default export must be definePlugin({...}))",
    );
  });

  it("refuses an array with an unbranded element", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-hello", { defaultExport: `[${defSource("hello")}, { type: "x" }]` });
    await expect(isolated().resolvePlugin("hello", { projectDir: root })).rejects.toThrow(/does not export a clnrm plugin/);
  });

  it("refuses a definition built for another plugin API version", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-future", { version: "1.2.0", clnrm: { types: ["future"] }, defaultExport: defSource("future", 2) });
    const err = await rejection(isolated().resolvePlugin("future", { projectDir: root }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe("CLNRM_ERR_PLUGIN_INCOMPATIBLE");
    expect(err.message).toBe(
      `plugin 'clnrm-plugin-future@1.2.0' uses plugin API v2, this clnrm (@clnrm/core ${coreVersion}) supports v1; upgrade @clnrm/cli or install a version of clnrm-plugin-future built for API v1`,
    );
  });

  it("refuses a manifest apiVersion it doesn't support before importing", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-future", { version: "2.0.0", clnrm: { types: ["future"], apiVersion: 3 } });
    await expect(isolated().resolvePlugin("future", { projectDir: root })).rejects.toThrow(
      "plugin 'clnrm-plugin-future@2.0.0' uses plugin API v3",
    );
    expect(importCount(root, "clnrm-plugin-future")).toBe(0);
  });

  it("ignores a peer range it can't parse (workspace:^)", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-hello", { peerCore: "workspace:^" });
    expect((await isolated().resolvePlugin("hello", { projectDir: root })).type).toBe("hello");
  });
});

describe("the compatibility rule: loadable iff its plugin API version is supported", () => {
  const corePackageDir = dirname(createRequire(import.meta.url).resolve("@clnrm/core/package.json"));

  /**
   * A plugin package as the previous release (core 0.1.x, before @clnrm/plugin-api) built them: it
   * peers on `@clnrm/core ^0.1.0`, declares API v1, and imports `definePlugin` and `HealthStatus`
   * from `@clnrm/core` at run time (the project's node_modules links the real, built core).
   */
  function previousReleasePlugin(apiVersion: number, peerCore = "^0.1.0"): string {
    const root = makeProject();
    mkdirSync(join(root, "node_modules", "@clnrm"), { recursive: true });
    symlinkSync(corePackageDir, join(root, "node_modules", "@clnrm", "core"), "dir");
    const definition =
      apiVersion === 1
        ? "definePlugin({ type: 'legacy', description: 'built against @clnrm/core 0.1', configSchema: z.strictObject({}), create: () => ({ start: async (ctx) => ({ service: ctx.service, containers: [], outputs: {} }), healthCheck: async () => HealthStatus.healthy() }) })"
        : `{ ...definePlugin({ type: 'legacy', description: 'v${apiVersion}', configSchema: z.strictObject({}), create: () => ({}) }), apiVersion: ${apiVersion} }`;
    addPackage(root, "clnrm-plugin-legacy", {
      version: "0.1.3",
      clnrm: { types: ["legacy"], apiVersion },
      peerCore,
      body: `import { definePlugin, HealthStatus, z } from "@clnrm/core";\nexport default ${definition};`,
    });
    return root;
  }

  it("loads a plugin built against the previous release (peer @clnrm/core ^0.1.0, API v1) when core is a later minor", async () => {
    const root = previousReleasePlugin(1);
    for (const coreVersion of ["0.2.0", "0.9.1", "1.0.0"]) {
      const loaded = await new PluginLoader({ cwd: tempDir(), cliDirs: [], coreVersion }).resolvePlugin("legacy", { projectDir: root });
      expect(loaded.type).toBe("legacy");
      expect(loaded.definition.apiVersion).toBe(1);
      expect(loaded.version).toBe("0.1.3");
      expect(await loaded.definition.create({}, { service: "l", baseDir: root }).healthCheck({ service: "l", containers: [], outputs: {} })).toEqual({ status: "healthy" });
    }
  });

  it("a peer range the core is outside of does not matter either way", async () => {
    const root = previousReleasePlugin(1, "^9.0.0");
    expect((await isolated().resolvePlugin("legacy", { projectDir: root })).type).toBe("legacy");
  });

  it("refuses a plugin of API v2 with one line, whatever its core range says", async () => {
    // The manifest says v1 here so that the definition's own apiVersion is what is checked, after import.
    const root = previousReleasePlugin(2);
    write(
      join(root, "node_modules", "clnrm-plugin-legacy", "package.json"),
      readFileSync(join(root, "node_modules", "clnrm-plugin-legacy", "package.json"), "utf8").replace('"apiVersion": 2', '"apiVersion": 1'),
    );
    const err = await rejection(new PluginLoader({ cwd: tempDir(), cliDirs: [], coreVersion: "0.1.0" }).resolvePlugin("legacy", { projectDir: root }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe("CLNRM_ERR_PLUGIN_INCOMPATIBLE");
    expect((err as ValidationError).format()).toBe(
      "plugin 'clnrm-plugin-legacy@0.1.3' uses plugin API v2, this clnrm (@clnrm/core 0.1.0) supports v1; upgrade @clnrm/cli or install a version of clnrm-plugin-legacy built for API v1",
    );

    // Declared in the manifest, it is refused before the package is imported.
    const declared = previousReleasePlugin(2);
    await expect(isolated().resolvePlugin("legacy", { projectDir: declared })).rejects.toThrow(/^plugin 'clnrm-plugin-legacy@0\.1\.3' uses plugin API v2, [^\n]*$/);
    expect(importCount(declared, "clnrm-plugin-legacy")).toBe(0);
  });
});

describe("multi-type packages", () => {
  it("loads several types from a default array, importing the package once", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-llm", {
      clnrm: { types: ["llm_a", "llm_b"] },
      defaultExport: `[${defSource("llm_a")}, ${defSource("llm_b")}]`,
    });
    const loader = isolated();
    const a = await loader.resolvePlugin("llm_a", { projectDir: root, explicitPackage: "clnrm-plugin-llm" });
    const b = await loader.resolvePlugin("llm_b", { projectDir: root, explicitPackage: "clnrm-plugin-llm" });
    expect([a.definition.type, b.definition.type]).toEqual(["llm_a", "llm_b"]);
    expect(importCount(root, "clnrm-plugin-llm")).toBe(1);
  });

  it("accepts { plugins: [...] } as the default export", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-pair", { clnrm: null, defaultExport: `{ plugins: [${defSource("one")}, ${defSource("two")}] }` });
    const r = await isolated().resolvePlugin("two", { projectDir: root, explicitPackage: "clnrm-plugin-pair" });
    expect(r.definition.type).toBe("two");
  });

  it("says which types a package provides when the requested one is missing", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-llm", { clnrm: null, defaultExport: `[${defSource("llm_a")}, ${defSource("llm_b")}]` });
    const err = await rejection(isolated().resolvePlugin("llm_c", { projectDir: root, explicitPackage: "clnrm-plugin-llm" }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe("package 'clnrm-plugin-llm@1.0.0' does not provide service type 'llm_c' (it provides 'llm_a', 'llm_b')");
  });

  it("checks the manifest's types before importing", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-llm", { clnrm: { types: ["llm_a"] } });
    await expect(
      isolated().resolvePlugin("llm_c", { projectDir: root, explicitPackage: "clnrm-plugin-llm" }),
    ).rejects.toThrow("(it provides 'llm_a')");
    expect(importCount(root, "clnrm-plugin-llm")).toBe(0);
  });
});

describe("not found", () => {
  it("names the candidates, suggests a built-in and the install command (pnpm)", async () => {
    const root = makeProject();
    write(join(root, "pnpm-lock.yaml"), "lockfileVersion: '9.0'\n");
    const err = await rejection(isolated().resolvePlugin("olama", { projectDir: root }));
    expect(err).toBeInstanceOf(PluginNotFoundError);
    const e = err as PluginNotFoundError;
    expect(e.code).toBe("CLNRM_ERR_PLUGIN_NOT_FOUND");
    expect(e.message).toBe("unknown service type 'olama'");
    expect(e.candidates).toEqual(["@clnrm/plugin-olama", "clnrm-plugin-olama", "olama"]);
    expect(e.hint).toContain(`tried @clnrm/plugin-olama, clnrm-plugin-olama, olama from ${root}`);
    expect(e.hint).toContain("did you mean 'ollama'? install it with: pnpm add -D @clnrm/plugin-ollama");
    expect(e.hint).not.toContain("add -D @clnrm/plugin-olama");
  });

  it("uses yarn when the project has a yarn.lock, in a parent directory too", async () => {
    const root = makeProject();
    write(join(root, "yarn.lock"), "");
    const nested = join(root, "tests", "e2e");
    write(join(nested, "a.clnrm.toml"), "");
    const err = await rejection(isolated().resolvePlugin("surreal", { projectDir: nested }));
    expect((err as PluginNotFoundError).hint).toContain("did you mean 'surrealdb'? install it with: yarn add -D @clnrm/plugin-surrealdb");
  });

  it("falls back to npm", async () => {
    const root = makeProject();
    const err = await rejection(isolated().resolvePlugin("zzz_nothing_like_it", { projectDir: root }));
    expect((err as PluginNotFoundError).hint).toContain("npm install -D @clnrm/plugin-zzz-nothing-like-it");
    expect((err as PluginNotFoundError).hint).not.toContain("did you mean");
  });

  it("suggests an installed plugin's type", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-kafka", { clnrm: { types: ["kafka"] } });
    const err = await rejection(isolated().resolvePlugin("kafk", { projectDir: root }));
    expect((err as PluginNotFoundError).hint).toContain("did you mean 'kafka'? (clnrm-plugin-kafka is installed)");
    expect((err as PluginNotFoundError).hint).not.toContain("install it");
    expect(importCount(root, "clnrm-plugin-kafka")).toBe(0);
  });

  it("points at an installed package that provides the type under another name", async () => {
    const root = makeProject({ devDependencies: { "my-stack": "1.0.0" } });
    addPackage(root, "my-stack", { clnrm: { types: ["kafka"] } });
    const err = await rejection(isolated().resolvePlugin("kafka", { projectDir: root }));
    expect((err as PluginNotFoundError).hint).toContain(`'my-stack' provides it: set package = "my-stack"`);
  });
});

describe("laziness and caching", () => {
  it("imports only the plugin that is asked for", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-one", { clnrm: { types: ["one"] } });
    addPackage(root, "clnrm-plugin-two", { clnrm: { types: ["two"] } });
    const loader = isolated();
    await loader.resolvePlugin("one", { projectDir: root });
    expect(importCount(root, "clnrm-plugin-one")).toBe(1);
    expect(importCount(root, "clnrm-plugin-two")).toBe(0);
    await loader.resolvePlugin("one", { projectDir: root });
    expect(importCount(root, "clnrm-plugin-one")).toBe(1);
  });

  it("the shared resolvePlugin works the same", async () => {
    const root = makeProject();
    addPackage(root, "clnrm-plugin-hello");
    const r = await resolvePlugin("hello", { projectDir: root });
    expect(r.definition.$$type).toBe("@clnrm/plugin");
    expect(readFileSync(join(root, "node_modules", "clnrm-plugin-hello", "package.json"), "utf8")).toContain("clnrm-plugin");
  });
});
