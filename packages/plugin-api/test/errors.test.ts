import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CleanroomError,
  ContainerError,
  createError,
  ERROR_CODES,
  type ErrorCode,
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
    [new ValidationError("v"), ValidationError, "CLNRM_ERR_VALIDATION", "validation", true],
    [new PluginNotFoundError("p", ["@clnrm/plugin-x", "clnrm-plugin-x"]), PluginNotFoundError, "CLNRM_ERR_PLUGIN_NOT_FOUND", "plugin_not_found", true],
    [new ContainerError("c"), ContainerError, "CLNRM_ERR_CONTAINER", "container", true],
    [new TimeoutError("t", 1000), TimeoutError, "CLNRM_ERR_TIMEOUT", "timeout", true],
    [new HealthError("h"), HealthError, "CLNRM_ERR_HEALTH", "health", true],
    [new InternalError("i"), InternalError, "CLNRM_ERR_INTERNAL", "internal", false],
  ] as const)("%s has its generic code, kind, name and userFacing flag", (err, cls, code, kind, userFacing) => {
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(CleanroomError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.kind).toBe(kind);
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
    expect(c.code).toBe("CLNRM_ERR_TIMEOUT");
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
    expect(c.code).toBe("CLNRM_ERR_PLUGIN_NOT_FOUND");
  });
});

describe("isCleanroomError / toCleanroomError", () => {
  it("recognises CleanroomErrors by their marker, not by their shape", () => {
    expect(isCleanroomError(new ValidationError("x"))).toBe(true);
    expect(isCleanroomError(new ValidationError("x").at({ file: "f" }))).toBe(true);
    // A look-alike without the marker is not one (the CLI used to accept any such shape).
    expect(isCleanroomError({ code: "CLNRM_ERR_VALIDATION", kind: "validation", userFacing: true, format: () => "x" })).toBe(false);
    expect(isCleanroomError(new Error("x"))).toBe(false);
    expect(isCleanroomError(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
    expect(isCleanroomError(null)).toBe(false);
    expect(isCleanroomError("validation")).toBe(false);
  });

  it("passes CleanroomErrors through unchanged", () => {
    const e = new HealthError("h");
    expect(toCleanroomError(e)).toBe(e);
  });

  it("wraps an Error into an InternalError (CLNRM_ERR_INTERNAL) with its message and cause", () => {
    const raw = new TypeError("x is undefined");
    const e = toCleanroomError(raw, "db");
    expect(e).toBeInstanceOf(InternalError);
    expect(e.code).toBe("CLNRM_ERR_INTERNAL");
    expect(e.kind).toBe("internal");
    expect(e.userFacing).toBe(false);
    expect(e.message).toBe("x is undefined");
    expect(e.cause).toBe(raw);
    expect(e.service).toBe("db");
  });

  it("wraps with a context put before the message", () => {
    const e = toCleanroomError(new Error("boom"), { service: "db", context: "service 'db' (fake) failed to start" });
    expect(e.code).toBe("CLNRM_ERR_INTERNAL");
    expect(e.message).toBe("service 'db' (fake) failed to start: boom");
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

describe("createError", () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  const classOf = {
    validation: ValidationError,
    plugin_not_found: PluginNotFoundError,
    container: ContainerError,
    timeout: TimeoutError,
    health: HealthError,
    interrupted: CleanroomError,
    internal: InternalError,
  } as const;

  it.each(codes)("%s builds the class of its kind with that code", (code) => {
    const { kind } = ERROR_CODES[code];
    const e = createError(code, "m", { hint: "h", service: "s" });
    expect(e).toBeInstanceOf(classOf[kind]);
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.name).toBe(classOf[kind].name);
    expect(e.userFacing).toBe(kind !== "internal");
    expect(e.environment).toBe("environment" in ERROR_CODES[code]);
    expect(e.format()).toBe("service 's': m (h)");
    expect(classOf[kind].isInstance(e)).toBe(true);
  });

  it("keeps the data of the class", () => {
    expect(createError("CLNRM_ERR_TEST_TIMEOUT", "t", { timeoutMs: 2500 }).timeoutMs).toBe(2500);
    expect(createError("CLNRM_ERR_PLUGIN_NOT_FOUND", "p", { candidates: ["a"] }).candidates).toEqual(["a"]);
  });

  it("environment codes are environment errors without saying so", () => {
    expect(createError("CLNRM_ERR_ENGINE_UNREACHABLE", "no engine").environment).toBe(true);
    expect(new ContainerError("no image", { code: "CLNRM_ERR_IMAGE_NOT_FOUND" }).environment).toBe(true);
    expect(createError("CLNRM_ERR_CONTAINER", "refused").environment).toBe(false);
  });

  it("refuses a code that is not in the table", () => {
    expect(() => new CleanroomError("CLNRM_ERR_NOPE" as ErrorCode, "x")).toThrow(/unknown clnrm error code 'CLNRM_ERR_NOPE'/);
  });
});

describe("isInstance", () => {
  it("tells the classes apart", () => {
    const t = new TimeoutError("t", 1);
    expect(CleanroomError.isInstance(t)).toBe(true);
    expect(TimeoutError.isInstance(t)).toBe(true);
    expect(HealthError.isInstance(t)).toBe(false);
    expect(TimeoutError.isInstance(t.at({ file: "f" }))).toBe(true);
    expect(CleanroomError.isInstance(new Error("x"))).toBe(false);
    expect(CleanroomError.isInstance(undefined)).toBe(false);
  });

  it("recognises errors of a second copy of the module, which instanceof does not", async () => {
    const url = new URL("../src/errors.ts", import.meta.url).href;
    const a = (await import(/* @vite-ignore */ `${url}?copy=a`)) as typeof import("../src/errors.js");
    const b = (await import(/* @vite-ignore */ `${url}?copy=b`)) as typeof import("../src/errors.js");
    expect(a.CleanroomError).not.toBe(b.CleanroomError); // really two copies
    const fromB = new b.TimeoutError("t", 5);
    expect(fromB).not.toBeInstanceOf(a.CleanroomError);
    expect(a.CleanroomError.isInstance(fromB)).toBe(true);
    expect(a.TimeoutError.isInstance(fromB)).toBe(true);
    expect(a.HealthError.isInstance(fromB)).toBe(false);
    expect(a.isCleanroomError(fromB)).toBe(true);
    expect(a.toCleanroomError(fromB)).toBe(fromB);
    expect(CleanroomError.isInstance(new a.ValidationError("v"))).toBe(true);
  });

  const dist = resolve(import.meta.dirname, "../dist/errors.js");
  it.skipIf(!existsSync(dist))("recognises errors across two loads of the built dist in plain Node", () => {
    // Plain Node's ESM loader (no vitest transform): the published file, loaded twice as two modules.
    const script = `
      const url = ${JSON.stringify(pathToFileURL(dist).href)};
      const a = await import(url + "?copy=a"), b = await import(url + "?copy=b");
      const e = b.createError("CLNRM_ERR_ENGINE_GONE", "gone");
      console.log(JSON.stringify([a.CleanroomError === b.CleanroomError, e instanceof a.CleanroomError, a.CleanroomError.isInstance(e), a.ContainerError.isInstance(e), a.TimeoutError.isInstance(e), a.toCleanroomError(e) === e]));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([false, false, true, true, false, true]);
  });
});

describe("docs/errors.md", () => {
  // The page lists every code with its meaning and fix; it cannot drift from the table.
  const page = readFileSync(resolve(import.meta.dirname, "../../../docs/errors.md"), "utf8");
  const rows = [...page.matchAll(/^\|\s*`(CLNRM_ERR_[A-Z0-9_]+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$/gm)].map((m) => ({
    code: m[1]!,
    kind: m[2]!.trim(),
    meaning: m[3]!.trim(),
    fix: m[4]!.trim(),
  }));

  it("documents exactly the codes of ERROR_CODES, each once", () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("gives each code its kind, a meaning and a fix", () => {
    for (const r of rows) {
      const info = ERROR_CODES[r.code as ErrorCode];
      expect(r.kind, r.code).toBe("environment" in info ? `${info.kind} (*environment*)` : info.kind);
      expect(r.meaning.length, `${r.code} meaning`).toBeGreaterThan(20);
      expect(r.fix.length, `${r.code} fix`).toBeGreaterThan(10);
    }
  });

  it("mentions no code outside the table", () => {
    const mentioned = new Set(page.match(/CLNRM_ERR_[A-Z0-9_]+/g));
    expect([...mentioned].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });
});
