import { ValidationError } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS, assertExplicitPackage, candidatesFor } from "../src/index.js";

describe("candidatesFor", () => {
  it("tries the built-in alias, then clnrm-plugin-X, then the raw name", () => {
    expect(candidatesFor("ollama")).toEqual(["@clnrm/plugin-ollama", "clnrm-plugin-ollama", "ollama"]);
    expect(candidatesFor("generic_container")).toEqual([
      "@clnrm/plugin-generic-container",
      "clnrm-plugin-generic_container",
      "generic_container",
    ]);
  });

  it("tries the official scope for unknown unscoped types too", () => {
    expect(candidatesFor("olama")).toEqual(["@clnrm/plugin-olama", "clnrm-plugin-olama", "olama"]);
    expect(candidatesFor("my_db")).toEqual(["@clnrm/plugin-my-db", "clnrm-plugin-my_db", "my_db"]);
  });

  it("maps @scope/name to @scope/clnrm-plugin-name, then the raw name", () => {
    expect(candidatesFor("@acme/db")).toEqual(["@acme/clnrm-plugin-db", "@acme/db"]);
  });

  it("uses an explicit package alone", () => {
    expect(candidatesFor("ollama", "my-ollama")).toEqual(["my-ollama"]);
    expect(candidatesFor("hello", "./local-plugin")).toEqual(["./local-plugin"]);
    expect(candidatesFor("hello", "../plugins/hello")).toEqual(["../plugins/hello"]);
  });

  it("never offers a Node built-in module", () => {
    expect(candidatesFor("fs")).toEqual(["@clnrm/plugin-fs", "clnrm-plugin-fs"]);
    expect(candidatesFor("child_process")).not.toContain("child_process");
  });

  it("has a package for every built-in", () => {
    for (const [type, b] of Object.entries(BUILTIN_PLUGINS)) {
      expect(b.package).toBe(`@clnrm/plugin-${type.replaceAll("_", "-")}`);
      expect(candidatesFor(type)[0]).toBe(b.package);
      expect(b.description.length).toBeGreaterThan(0);
    }
  });

  it.each([
    "./evil.js",
    "../evil",
    "/etc/passwd",
    ".",
    "..",
    "a/../b",
    "a\\b",
    "C:\\x",
    "~/x",
  ])("refuses the path-like type %j and points at package =", (type) => {
    expect(() => candidatesFor(type)).toThrow(ValidationError);
    expect(() => candidatesFor(type)).toThrow(`type ${JSON.stringify(type)} is not a plugin name: a local plugin needs an explicit package = "./path"`);
  });

  it.each(["file:///tmp/evil.js", "data:text/javascript,1", "node:fs", "http://x/y.js", "https:evil", "x:y"])(
    "refuses the URL-like type %j",
    (type) => {
      expect(() => candidatesFor(type)).toThrow(/is not a plugin name: URLs/);
    },
  );

  it.each(["", "Hello", "a b", "@scope/", "@/x", "_x", "a/b", "@a/b/c", "x".repeat(215)])("refuses the invalid name %j", (type) => {
    expect(() => candidatesFor(type)).toThrow(ValidationError);
  });

  it("validates the type even with an explicit package", () => {
    expect(() => candidatesFor("./evil.js", "./evil.js")).toThrow(/not a plugin name/);
  });

  it.each(["/abs/plugin", "file:///x", "C:\\x", "a\\b", "Foo", "a/b/c", "pkg/sub"])("refuses the explicit package %j", (pkg) => {
    expect(() => assertExplicitPackage(pkg)).toThrow(ValidationError);
  });
});
