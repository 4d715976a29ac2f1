import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CAPABILITY_NAMES, capabilityOf, capabilityProblems, type SpanSink } from "../src/capabilities.js";
import { ValidationError } from "../src/errors.js";
import { definePlugin, type ServiceHandle } from "../src/plugin.js";
import { FakePlugin } from "./fake-backend.js";

const base = { description: "d", configSchema: z.strictObject({}), create: () => new FakePlugin() };
const sink: SpanSink = { otlpHttpEndpoint: (h) => String(h.outputs.ep), readSpans: async () => [] };
const handle: ServiceHandle = { service: "s", containers: [], outputs: { ep: "http://h:1" } };

describe("capabilities", () => {
  it("capabilityOf gives the declared capability, and undefined when there is none", async () => {
    const d = definePlugin({ ...base, type: "sinky", capabilities: { spanSink: sink } });
    const found = capabilityOf(d, "spanSink");
    expect(found).toBe(sink);
    expect(found!.otlpHttpEndpoint(handle)).toBe("http://h:1");
    expect(await found!.readSpans(handle)).toEqual([]);
    expect(capabilityOf(definePlugin({ ...base, type: "plain" }), "spanSink")).toBeUndefined();
    expect(CAPABILITY_NAMES).toEqual(["spanSink"]);
  });

  it("a capability missing a function is a ValidationError naming the plugin and the function", () => {
    const d = definePlugin({ ...base, type: "half", capabilities: { spanSink: { otlpHttpEndpoint: () => "x" } as unknown as SpanSink } });
    expect(() => capabilityOf(d, "spanSink")).toThrow(ValidationError);
    expect(() => capabilityOf(d, "spanSink")).toThrow("plugin 'half': capabilities.spanSink has no readSpans()");
  });

  it("capabilityProblems: not an object, missing functions; names this core doesn't know are fine", () => {
    expect(capabilityProblems({ type: "p" })).toEqual([]);
    expect(capabilityProblems({ type: "p", capabilities: 3 })).toEqual(["plugin 'p': capabilities must be an object, e.g. { spanSink: { ... } }"]);
    expect(capabilityProblems({ type: "p", capabilities: { spanSink: true } })).toEqual(["plugin 'p': capabilities.spanSink must be an object with otlpHttpEndpoint, readSpans"]);
    expect(capabilityProblems({ type: "p", capabilities: { spanSink: {} } })).toEqual(["plugin 'p': capabilities.spanSink has no otlpHttpEndpoint() or readSpans()"]);
    expect(capabilityProblems({ type: "p", capabilities: { spanSink: sink, logSink: 1 } })).toEqual([]);
  });
});
