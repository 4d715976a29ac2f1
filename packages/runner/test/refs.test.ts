import { describe, expect, it } from "vitest";
import { findReferences, interpolate } from "../src/index.js";

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

  it("leaves regexes and numbers alone", () => {
    const re = /x/;
    expect(interpolate({ r: re, n: 3 }, new Map(), "x")).toEqual({ r: re, n: 3 });
  });
});
