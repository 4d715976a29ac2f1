import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, isPluginDefinition, PLUGIN_API_VERSION, PLUGIN_BRAND } from "../src/plugin.js";
import { FakePlugin } from "./fake-backend.js";

const input = {
  type: "generic_container",
  description: "any image",
  configSchema: z.strictObject({ image: z.string() }),
  create: () => new FakePlugin(),
};

describe("definePlugin", () => {
  it("brands the definition and defaults apiVersion to 1", () => {
    const d = definePlugin(input);
    expect(d.$$type).toBe(PLUGIN_BRAND);
    expect(d.$$type).toBe("@clnrm/plugin");
    expect(d.apiVersion).toBe(PLUGIN_API_VERSION);
    expect(d.apiVersion).toBe(1);
    expect(d.type).toBe("generic_container");
    expect(d.description).toBe("any image");
    expect(d.configSchema).toBe(input.configSchema);
    expect(d.create).toBe(input.create);
  });

  it("always writes plugin API v1: a v2 definition gets its own definer, not a flag", () => {
    // @ts-expect-error apiVersion is not an input of definePlugin (V1)
    expect(definePlugin({ ...input, apiVersion: 2 }).apiVersion).toBe(1);
  });

  it("returns a frozen object and does not freeze or change its input", () => {
    const src = { ...input };
    const d = definePlugin(src);
    expect(Object.isFrozen(d)).toBe(true);
    expect(() => {
      (d as { type: string }).type = "other";
    }).toThrow(TypeError);
    expect(d.type).toBe("generic_container");
    expect(Object.isFrozen(src)).toBe(false);
    expect("$$type" in src).toBe(false);
  });
});

describe("isPluginDefinition", () => {
  it("accepts what definePlugin returns", () => {
    expect(isPluginDefinition(definePlugin(input))).toBe(true);
  });

  it("accepts a hand-built branded object (a plugin built against another copy of core)", () => {
    expect(isPluginDefinition({ ...input, $$type: "@clnrm/plugin", apiVersion: 1 })).toBe(true);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "@clnrm/plugin"],
    ["a function", () => {}],
    ["no brand", { ...input, apiVersion: 1 }],
    ["a wrong brand", { ...input, $$type: "@other/plugin", apiVersion: 1 }],
    ["no type", { ...input, type: undefined, $$type: PLUGIN_BRAND, apiVersion: 1 }],
    ["a string apiVersion", { ...input, $$type: PLUGIN_BRAND, apiVersion: "1" }],
    ["no create", { ...input, create: undefined, $$type: PLUGIN_BRAND, apiVersion: 1 }],
    ["no schema", { ...input, configSchema: null, $$type: PLUGIN_BRAND, apiVersion: 1 }],
  ])("rejects %s", (_label, value) => {
    expect(isPluginDefinition(value)).toBe(false);
  });
});
