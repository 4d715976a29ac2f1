import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../src/errors.js";
import { definePlugin, PLUGIN_BRAND, type PluginDefinition } from "../src/plugin.js";
import { PluginRegistry } from "../src/registry.js";
import { FakePlugin } from "./fake-backend.js";

function plugin(type: string): PluginDefinition {
  return definePlugin({
    type,
    description: `the ${type} plugin`,
    configSchema: z.strictObject({ image: z.string() }),
    create: () => new FakePlugin(),
  });
}

describe("PluginRegistry", () => {
  it("registers and gets a plugin by type, with its source and version", () => {
    const r = new PluginRegistry();
    const p = plugin("ollama");
    r.register(p, { source: "@clnrm/plugin-ollama", version: "1.2.3" });
    expect(r.has("ollama")).toBe(true);
    expect(r.get("ollama")).toBe(p);
    expect(r.entry("ollama")).toEqual({ definition: p, source: "@clnrm/plugin-ollama", version: "1.2.3" });
    expect(r.has("postgres")).toBe(false);
    expect(r.get("postgres")).toBeUndefined();
    expect(r.entry("postgres")).toBeUndefined();
  });

  it("defaults the source to inline and leaves out a missing version", () => {
    const r = new PluginRegistry();
    r.register(plugin("x"));
    const e = r.entry("x");
    expect(e?.source).toBe("inline");
    expect(e && "version" in e).toBe(false);
  });

  it("lists plugins and types sorted by type, in the same order", () => {
    const r = new PluginRegistry();
    for (const t of ["postgres", "generic_container", "ollama", "Zeta", "a-b", "a_b", "redis"]) r.register(plugin(t));
    const types = r.types();
    expect(types).toEqual([...types].sort());
    expect(types).toEqual(["Zeta", "a-b", "a_b", "generic_container", "ollama", "postgres", "redis"]);
    expect(r.list().map((e) => e.definition.type)).toEqual(types);
  });

  it("rejects a second plugin for the same type, naming the type and the first source", () => {
    const r = new PluginRegistry();
    r.register(plugin("ollama"), { source: "@clnrm/plugin-ollama" });
    const second = plugin("ollama");
    expect(() => r.register(second, { source: "./local.js" })).toThrow(ValidationError);
    expect(() => r.register(second, { source: "./local.js" })).toThrow(/plugin type 'ollama' is already registered \(from @clnrm\/plugin-ollama\)/);
    // The first registration is kept.
    expect(r.entry("ollama")?.source).toBe("@clnrm/plugin-ollama");
  });

  it("rejects values that are not branded plugin definitions", () => {
    const r = new PluginRegistry();
    const unbranded = { type: "x", apiVersion: 1, description: "", configSchema: z.object({}), create: () => new FakePlugin() };
    for (const bad of [unbranded, { ...unbranded, $$type: "other" }, null, "ollama", 42]) {
      let caught: unknown;
      try {
        r.register(bad as unknown as PluginDefinition);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).code).toBe("CLNRM_ERR_VALIDATION");
      expect((caught as ValidationError).message).toContain(PLUGIN_BRAND);
      expect((caught as ValidationError).hint).toContain("definePlugin");
    }
    expect(r.types()).toEqual([]);
  });
});
