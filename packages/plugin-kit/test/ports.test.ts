import { describe, expect, it } from "vitest";
import { fixedHostPortSchema } from "../src/index.js";

describe("fixedHostPortSchema", () => {
  const port = fixedHostPortSchema(6379, "Redis");
  it("parses a host port given as a number, a string or host:container", () => {
    expect(port.parse(16379)).toBe(16379);
    expect(port.parse(" 16379 ")).toBe(16379);
    expect(port.parse("16379:6379")).toBe(16379);
  });
  it("refuses ports out of range and another container port, naming the server", () => {
    expect(port.safeParse(70000).error?.issues[0]?.message).toBe('invalid port "70000": use a host port such as 16379 or "16379:6379"');
    expect(port.safeParse("x").success).toBe(false);
    expect(port.safeParse("16379:6380").error?.issues[0]?.message).toBe('invalid port "16379:6380": Redis listens on container port 6379; use "16379:6379"');
  });
});
