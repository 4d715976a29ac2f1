import { describe, expect, it } from "vitest";
import { findReferences, interpolate } from "../src/index.js";
import { findMalformedReferences } from "../src/refs.js";

describe("references", () => {
  it("finds references with their paths", () => {
    expect(findReferences({ env: { A: "${services.db.url}/x", B: "plain" }, command: ["${services.api.port}"] })).toEqual([
      { service: "db", output: "url", path: ["env", "A"] },
      { service: "api", output: "port", path: ["command", 0] },
    ]);
  });

  it("substitutes outputs and names the missing ones", () => {
    const outputs = new Map([["db", { url: "http://db:8000", port: 8000 }]]);
    expect(interpolate({ a: ["${services.db.url}/sql", "p=${services.db.port}"] }, outputs, "here")).toEqual({ a: ["http://db:8000/sql", "p=8000"] });
    expect(() => interpolate("${services.db.prot}", outputs, "steps[0]")).toThrow("steps[0]: service 'db' has no output 'prot'");
    try {
      interpolate("${services.db.prot}", outputs, "steps[0]");
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe("did you mean 'port'?");
    }
  });

  it("resolves only a service's own outputs, never its prototype's (constructor, toString, __proto__)", () => {
    const outputs = new Map([["test", { host: "localhost" }]]);
    for (const key of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      expect(() => interpolate(`\${services.test.${key}}`, outputs, "steps[0]"), key).toThrow(`steps[0]: service 'test' has no output '${key}'`);
    }
  });

  it("finds malformed references: no output, unclosed, and leaves shell variables and good references alone", () => {
    expect(findMalformedReferences({ a: "${services.test}", b: ["x ${services.db.host", "${HOME} ${services.db.port}"], c: "${PATH:-/bin}" })).toEqual([
      { path: ["a"], text: "${services.test}", message: "'${services.test}' is not a reference: write ${services.NAME.OUTPUT}, e.g. ${services.db.host}" },
      { path: ["b", 0], text: "${services.db.host", message: "'${services.db.host' is never closed: end it with '}' (a reference is ${services.NAME.OUTPUT})" },
    ]);
    expect(findMalformedReferences(["echo ${", "${services.}", "${services..x}"]).map((m) => m.text)).toEqual(["${", "${services.}", "${services..x}"]);
  });

  it("leaves regexes and numbers alone", () => {
    const re = /x/;
    expect(interpolate({ r: re, n: 3 }, new Map(), "x")).toEqual({ r: re, n: 3 });
  });
});
