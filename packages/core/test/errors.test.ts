import { describe, expect, it } from "vitest";
import {
  CleanroomError,
  ContainerError,
  formatLocation,
  HealthError,
  InternalError,
  isCleanroomError,
  PluginNotFoundError,
  TimeoutError,
  toCleanroomError,
  ValidationError,
} from "../src/errors.js";

describe("CleanroomError subclasses", () => {
  it.each([
    [new ValidationError("v"), ValidationError, "validation", true],
    [new PluginNotFoundError("p", ["@clnrm/plugin-x", "clnrm-plugin-x"]), PluginNotFoundError, "plugin_not_found", true],
    [new ContainerError("c"), ContainerError, "container", true],
    [new TimeoutError("t", 1000), TimeoutError, "timeout", true],
    [new HealthError("h"), HealthError, "health", true],
    [new InternalError("i"), InternalError, "internal", false],
  ] as const)("%s has its code, name and userFacing flag", (err, cls, code, userFacing) => {
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(CleanroomError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.name).toBe(cls.name);
    expect(err.userFacing).toBe(userFacing);
  });

  it("keeps subclass data", () => {
    expect(new PluginNotFoundError("p", ["a", "b"]).candidates).toEqual(["a", "b"]);
    expect(new TimeoutError("t", 1500).timeoutMs).toBe(1500);
  });

  it("keeps the cause only when one is given", () => {
    const cause = new Error("root");
    expect(new ContainerError("c", { cause }).cause).toBe(cause);
    expect("cause" in new ContainerError("c")).toBe(false);
  });
});

describe("CleanroomError.format", () => {
  it("is just the message without location or hint", () => {
    expect(new ValidationError("bad port").format()).toBe("bad port");
  });

  it("prefixes the location and appends the hint", () => {
    const e = new ValidationError("bad port", { location: { file: "t.clnrm.toml", line: 3, column: 7 }, hint: "use 1-65535" });
    expect(e.format()).toBe("t.clnrm.toml:3:7: bad port (use 1-65535)");
  });

  it("formats partial locations", () => {
    expect(formatLocation({ file: "a.toml" })).toBe("a.toml");
    expect(formatLocation({ file: "a.toml", line: 2 })).toBe("a.toml:2");
    expect(formatLocation({ file: "a.toml", line: 2, column: 5 })).toBe("a.toml:2:5");
    expect(formatLocation({ file: "a.toml", column: 5 })).toBe("a.toml");
  });

  it("names the service unless the message already does", () => {
    expect(new HealthError("is unhealthy", { service: "db" }).format()).toBe("service 'db': is unhealthy");
    expect(new HealthError("service 'db' is unhealthy", { service: "db" }).format()).toBe("service 'db' is unhealthy");
  });
});

describe("CleanroomError.at", () => {
  it("returns a located copy and leaves the original alone", () => {
    const cause = new Error("root");
    const e = new TimeoutError("too slow", 500, { hint: "raise it", service: "db", cause });
    const loc = { file: "t.clnrm.toml", line: 9 };
    const c = e.at(loc);
    expect(c).not.toBe(e);
    expect(c).toBeInstanceOf(TimeoutError);
    expect(c.location).toEqual(loc);
    expect(e.location).toBeUndefined();
    expect(c.message).toBe("too slow");
    expect(c.code).toBe("timeout");
    expect(c.name).toBe("TimeoutError");
    expect(c.hint).toBe("raise it");
    expect(c.service).toBe("db");
    expect(c.timeoutMs).toBe(500);
    expect(c.userFacing).toBe(true);
    expect(c.stack).toBe(e.stack);
    expect(c.cause).toBe(cause);
    expect(c.format()).toBe("t.clnrm.toml:9: service 'db': too slow (raise it)");
    expect(e.format()).toBe("service 'db': too slow (raise it)");
  });

  it("keeps PluginNotFoundError candidates", () => {
    const c = new PluginNotFoundError("no plugin", ["a", "b"]).at({ file: "f" });
    expect(c.candidates).toEqual(["a", "b"]);
    expect(c.code).toBe("plugin_not_found");
  });
});

describe("isCleanroomError / toCleanroomError", () => {
  it("recognises CleanroomErrors, including look-alikes from another copy of core", () => {
    expect(isCleanroomError(new ValidationError("x"))).toBe(true);
    expect(isCleanroomError({ code: "validation", userFacing: true, format: () => "x" })).toBe(true);
    expect(isCleanroomError(new Error("x"))).toBe(false);
    expect(isCleanroomError(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
    expect(isCleanroomError(null)).toBe(false);
    expect(isCleanroomError("validation")).toBe(false);
  });

  it("passes CleanroomErrors through unchanged", () => {
    const e = new HealthError("h");
    expect(toCleanroomError(e)).toBe(e);
  });

  it("wraps an Error into an InternalError with its message and cause", () => {
    const raw = new TypeError("x is undefined");
    const e = toCleanroomError(raw, "db");
    expect(e).toBeInstanceOf(InternalError);
    expect(e.code).toBe("internal");
    expect(e.userFacing).toBe(false);
    expect(e.message).toBe("x is undefined");
    expect(e.cause).toBe(raw);
    expect(e.service).toBe("db");
  });

  it("wraps a thrown non-Error value", () => {
    const e = toCleanroomError("boom");
    expect(e).toBeInstanceOf(InternalError);
    expect(e.message).toBe("boom");
    expect(e.service).toBeUndefined();
    expect(e.cause).toBe("boom");
  });
});
