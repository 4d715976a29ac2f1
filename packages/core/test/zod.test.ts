import { describe, expect, it } from "vitest";
import { z } from "zod";
import { portSchema } from "../src/config.js";
import { describeZodIssues, formatPath } from "../src/zod.js";

function issuesOf(schema: z.ZodType, input: unknown, knownKeys?: (path: (string | number)[]) => string[]) {
  const r = schema.safeParse(input);
  if (r.success) throw new Error("expected a validation error");
  return describeZodIssues(r.error, knownKeys);
}

const service = z.strictObject({ image: z.string().optional(), ports: z.array(portSchema).optional() });
const keysOf = (schema: z.ZodObject) => () => Object.keys(schema.shape);

describe("describeZodIssues", () => {
  it("suggests the closest valid key for an unknown key", () => {
    expect(issuesOf(service, { imgae: "x" }, keysOf(service))).toEqual([{ path: ["imgae"], message: "unknown key 'imgae' (did you mean 'image'?)" }]);
  });

  it("suggests for each unknown key, among other issues", () => {
    const schema = z.strictObject({ image: z.string(), ports: z.array(z.number()).optional() });
    const issues = issuesOf(schema, { imgae: "x", prots: [] }, keysOf(schema));
    expect(issues).toContainEqual({ path: ["imgae"], message: "unknown key 'imgae' (did you mean 'image'?)" });
    expect(issues).toContainEqual({ path: ["prots"], message: "unknown key 'prots' (did you mean 'ports'?)" });
    // image is required and missing: reported too.
    expect(issues.some((i) => i.path.length === 1 && i.path[0] === "image")).toBe(true);
  });

  it("lists the valid keys when nothing is close", () => {
    expect(issuesOf(service, { zzzzzz: 1 }, keysOf(service))).toEqual([{ path: ["zzzzzz"], message: "unknown key 'zzzzzz' (valid keys: image, ports)" }]);
  });

  it("says only 'unknown key' without known keys", () => {
    expect(issuesOf(service, { imgae: "x" })).toEqual([{ path: ["imgae"], message: "unknown key 'imgae'" }]);
  });

  it("asks for the known keys of the nested object that has the unknown key", () => {
    const inner = z.strictObject({ image: z.string().optional() });
    const outer = z.strictObject({ services: z.record(z.string(), inner) });
    const seen: (string | number)[][] = [];
    const issues = issuesOf(outer, { services: { db: { imgae: "pg" } } }, (path) => {
      seen.push(path);
      return path.length === 2 ? ["image"] : ["services"];
    });
    expect(seen).toEqual([["services", "db"]]);
    expect(issues).toEqual([{ path: ["services", "db", "imgae"], message: "unknown key 'imgae' (did you mean 'image'?)" }]);
  });

  it("reports a custom issue from a transform with its path", () => {
    expect(issuesOf(service, { ports: ["8080", "abc"] })).toEqual([
      { path: ["ports", 1], message: expect.stringContaining('invalid port mapping "abc"') },
    ]);
  });

  it("reports the closest union branch rather than a bare 'Invalid input'", () => {
    const schema = z.strictObject({
      health: z.union([z.strictObject({ kind: z.literal("tcp"), port: z.number() }), z.string().min(1)]),
    });
    const issues = issuesOf(schema, { health: { kind: "tcp", port: "x" } });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(["health", "port"]);
    expect(issues[0]?.message).not.toBe("Invalid input");
  });
});

describe("formatPath", () => {
  it.each([
    [[], ""],
    [["image"], "image"],
    [["services", "db", "image"], "services.db.image"],
    [["ports", 0], "ports[0]"],
    [["services", "db", "ports", 1, "host"], "services.db.ports[1].host"],
    [[0, "a"], "[0].a"],
  ] as const)("%j → %s", (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });
});
