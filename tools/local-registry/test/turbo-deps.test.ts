// The end-to-end tests publish every package's dist: turbo.json must make `test` wait for every build.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { workspacePackages } from "../src/index.mjs";

describe("turbo.json of @clnrm/local-registry", () => {
  it("makes test depend on the build of every publishable package", () => {
    const turbo = JSON.parse(readFileSync(join(import.meta.dirname, "..", "turbo.json"), "utf8"));
    const deps: string[] = turbo.tasks.test.dependsOn;
    const wanted = workspacePackages()
      .filter((p: { dir: string }) => JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8")).scripts?.build)
      .map((p: { name: string }) => `${p.name}#build`);
    expect(wanted.length).toBeGreaterThan(5);
    expect(wanted.filter((d: string) => !deps.includes(d))).toEqual([]);
  });
});
