import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, isPluginDefinition, isSupportedDefinition, PLUGIN_API_VERSION, type PluginDefinitionV1 } from "../src/index.js";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  sideEffects: unknown;
  dependencies?: Record<string, string>;
};

describe("@clnrm/plugin-api is a contract, not a runtime", () => {
  it("declares itself side-effect free and has no runtime dependencies", () => {
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it("imports nothing at run time but its own modules (zod is a type import)", () => {
    for (const file of readdirSync(join(root, "src")).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(root, "src", file), "utf8");
      const runtime = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);
      expect(runtime.filter((spec) => !spec.startsWith("./")), file).toEqual([]);
    }
  });

  it("loads in plain Node without zod or @clnrm/core installed, and doing so starts nothing", () => {
    // The built entry point is imported by a bare Node with no resolvable packages besides its own files.
    const entry = pathToFileURL(join(root, "dist", "index.js")).href;
    const script = `const before = process.getActiveResourcesInfo().length; const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify([typeof m.definePlugin, m.PLUGIN_API_VERSION, process.getActiveResourcesInfo().length - before]));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: "/" });
    expect(JSON.parse(out)).toEqual(["function", 1, 0]);
  });

  it("is versioned by the plugin API: its major version is the apiVersion definePlugin writes", () => {
    expect(Number(pkg.version.split(".")[0])).toBe(PLUGIN_API_VERSION);
    const def: PluginDefinitionV1 = definePlugin({ type: "x", description: "x", configSchema: z.strictObject({}), create: () => ({ start: async () => ({ service: "x", containers: [], outputs: {} }), healthCheck: async () => ({ status: "healthy" }) }) });
    expect(def.apiVersion).toBe(1);
    expect(isPluginDefinition(def)).toBe(true);
    expect(isSupportedDefinition(def, [1])).toBe(true);
    // A v2 definition is still recognised as a plugin definition, but a v1-only runtime does not support it.
    const v2 = { ...def, apiVersion: 2 };
    expect(isPluginDefinition(v2)).toBe(true);
    expect(isSupportedDefinition(v2, [1])).toBe(false);
  });
});
