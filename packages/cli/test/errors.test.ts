import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { createError, ValidationError } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { exitCodeFor, printError } from "../src/errors.js";

function printed(err: unknown): string {
  let text = "";
  const out = {
    write: (s: string) => {
      text += s;
      return true;
    },
  };
  printError(err, out as unknown as NodeJS.WritableStream);
  return stripVTControlCharacters(text);
}

describe("printError / exitCodeFor", () => {
  it("prints bad input as one line without a stack and exits 2", () => {
    const e = new ValidationError("bad port", { location: { file: "t.clnrm.toml", line: 3, column: 7 }, hint: "use 1-65535" });
    expect(printed(e)).toBe("error: t.clnrm.toml:3:7: bad port (use 1-65535)\n");
    expect(exitCodeFor(e)).toBe(2);
  });

  it("prints a bug with its code and stack and exits 1", () => {
    const e = createError("CLNRM_ERR_INTERNAL", "invalid transition");
    const out = printed(e);
    expect(out).toMatch(/^internal error \[CLNRM_ERR_INTERNAL\] \(a bug in clnrm; please report it\): InternalError: invalid transition\n\s+at /);
    expect(exitCodeFor(e)).toBe(1);
    expect(exitCodeFor(new TypeError("x"))).toBe(1);
  });

  it("recognises an error of another copy of the contract, and not a look-alike without the marker", async () => {
    // A second copy of the errors module (it lives in @clnrm/plugin-api; core re-exports it), as a
    // plugin with its own copy of the contract would load it.
    const url = pathToFileURL(resolve(import.meta.dirname, "../../plugin-api/dist/errors.js")).href;
    const other = (await import(/* @vite-ignore */ `${url}?copy=plugin`)) as typeof import("@clnrm/core/errors");
    const e = new other.ValidationError("unknown key 'prot'", { hint: "did you mean 'port'?" });
    expect(e).not.toBeInstanceOf(ValidationError);
    expect(printed(e)).toBe("error: unknown key 'prot' (did you mean 'port'?)\n");
    expect(exitCodeFor(e)).toBe(2);

    const lookAlike = { code: "CLNRM_ERR_VALIDATION", userFacing: true, format: () => "looks like one" };
    expect(exitCodeFor(lookAlike)).toBe(1);
    expect(printed(lookAlike)).toMatch(/^internal error /);
  });
});
