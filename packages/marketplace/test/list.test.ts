import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS, listInstalledPlugins, searchRoots } from "../src/index.js";
import { addPackage, cleanup, importCount, makeProject, tempDir } from "./fixtures.js";

afterEach(cleanup);

describe("listInstalledPlugins", () => {
  it("lists only plugins: a conventionally named package without the keyword or a clnrm field (plugin-kit) is not one", () => {
    const root = makeProject();
    addPackage(root, "@clnrm/plugin-kit", { keywords: ["clnrm", "testing"], clnrm: null });
    addPackage(root, "@clnrm/plugin-generic-container", { clnrm: { types: ["generic_container"] } });
    expect(listInstalledPlugins(root).map((r) => r.package)).toEqual(["@clnrm/plugin-generic-container"]);
  });

  it("searches each root in turn and says which one found a package (the first wins)", () => {
    const project = makeProject();
    const cwd = makeProject();
    const cli = makeProject();
    addPackage(project, "clnrm-plugin-a", { clnrm: { types: ["a"] } });
    addPackage(cwd, "clnrm-plugin-a", { version: "9.0.0", clnrm: { types: ["a"] } });
    addPackage(cwd, "clnrm-plugin-b", { clnrm: { types: ["b"] } });
    addPackage(cli, "@clnrm/plugin-generic-container", { clnrm: { types: ["generic_container"] } });
    const rows = listInstalledPlugins(project, searchRoots(project, { cwd, cliDirs: [join(cli, "node_modules", "x")] }));
    expect(rows.map((r) => `${r.type}@${r.version}:${r.from}`)).toEqual(["a@1.0.0:project", "b@1.0.0:cwd", "generic_container@1.0.0:cli"]);
  });

  it("lists plugin packages from package.json metadata, without importing them", () => {
    const workspace = tempDir();
    addPackage(workspace, "clnrm-plugin-parent", { clnrm: { types: ["parent"] } });
    addPackage(workspace, "clnrm-plugin-shadowed", { version: "1.0.0", clnrm: { types: ["shadowed"] } });
    const root = makeProject({
      dir: join(workspace, "app"),
      dependencies: { "my-db": "^1.0.0", lodashish: "^1.0.0" },
      devDependencies: { "my-fielded": "^1.0.0" },
    });
    addPackage(root, "@clnrm/plugin-generic-container", {
      version: "0.1.0",
      description: "run any container",
      clnrm: { types: ["generic_container"], apiVersion: 1 },
    });
    addPackage(root, "clnrm-plugin-llm", { version: "2.0.0", clnrm: { types: ["llm_a", "llm_b"] } });
    addPackage(root, "@acme/clnrm-plugin-queue", { clnrm: { types: ["@acme/queue"] } });
    addPackage(root, "clnrm-plugin-shadowed", { version: "2.0.0", clnrm: { types: ["shadowed"] } });
    addPackage(root, "clnrm-plugin-bare", { clnrm: null });
    addPackage(root, "my-db", { clnrm: { types: ["mydb"] } });
    addPackage(root, "lodashish", { keywords: ["utility"], clnrm: null });
    addPackage(root, "my-fielded", { keywords: [], clnrm: { types: ["fielded"] } });
    addPackage(root, "stray-plugin", { clnrm: { types: ["stray"] } });

    const rows = listInstalledPlugins(root);
    expect(rows.map((r) => `${r.type}=${r.package}`)).toEqual([
      "@acme/queue=@acme/clnrm-plugin-queue",
      "bare=clnrm-plugin-bare",
      "fielded=my-fielded",
      "generic_container=@clnrm/plugin-generic-container",
      "llm_a=clnrm-plugin-llm",
      "llm_b=clnrm-plugin-llm",
      "mydb=my-db",
      "parent=clnrm-plugin-parent",
      "shadowed=clnrm-plugin-shadowed",
    ]);
    const gc = rows.find((r) => r.type === "generic_container")!;
    expect(gc).toEqual({
      type: "generic_container",
      package: "@clnrm/plugin-generic-container",
      version: "0.1.0",
      apiVersion: 1,
      description: "run any container",
      official: true,
      path: join(root, "node_modules", "@clnrm", "plugin-generic-container"),
      from: "project",
    });
    expect(rows.find((r) => r.type === "shadowed")!.version).toBe("2.0.0");
    expect(rows.find((r) => r.type === "bare")!.apiVersion).toBeUndefined();
    expect(rows.find((r) => r.type === "mydb")!.official).toBe(false);

    for (const pkg of ["@clnrm/plugin-generic-container", "clnrm-plugin-llm", "my-db", "clnrm-plugin-parent"]) {
      expect(importCount(root, pkg) + importCount(workspace, pkg)).toBe(0);
    }
  });

  it("returns nothing for a project without plugins", () => {
    expect(listInstalledPlugins(makeProject())).toEqual([]);
  });

  it("exposes the built-in table for plugins that are not installed", () => {
    expect(BUILTIN_PLUGINS.ollama?.package).toBe("@clnrm/plugin-ollama");
    expect(Object.keys(BUILTIN_PLUGINS).sort()).toEqual([
      "chaos_engine",
      "generic_container",
      "ollama",
      "otel_collector",
      "postgres",
      "rabbitmq",
      "redis",
      "surrealdb",
      "tgi",
      "vllm",
    ]);
  });
});
