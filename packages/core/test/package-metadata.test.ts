// What a registry user sees of every published package: its npm page metadata points at the
// canonical repository, and links work from an installed copy.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY_URL, docsUrl } from "../src/index.js";

const packagesDir = join(import.meta.dirname, "../..");
const published = readdirSync(packagesDir)
  .filter((d) => existsSync(join(packagesDir, d, "package.json")))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(packagesDir, dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => !pkg.private);

describe("docsUrl", () => {
  it("links a docs page absolutely, with or without .md and an anchor", () => {
    expect(REPOSITORY_URL).toBe("https://github.com/clnrm/clnrm-ts");
    expect(docsUrl("configuration")).toBe("https://github.com/clnrm/clnrm-ts/blob/main/docs/configuration.md");
    expect(docsUrl("api.md#vitest")).toBe("https://github.com/clnrm/clnrm-ts/blob/main/docs/api.md#vitest");
  });
});

describe("published package metadata", () => {
  it("covers every package under packages/", () => {
    expect(published.map((p) => p.dir)).toEqual(expect.arrayContaining(["cli", "core", "runner", "plugin-generic-container"]));
  });

  it.each(published.map((p) => [p.pkg.name, p] as const))("%s: repository, homepage, bugs, license, keywords", (_name, { dir, pkg }) => {
    expect(pkg.repository).toEqual({ type: "git", url: `git+${REPOSITORY_URL}.git`, directory: `packages/${dir}` });
    expect(pkg.homepage).toBe(`${REPOSITORY_URL}/tree/main/packages/${dir}#readme`);
    expect(pkg.bugs).toEqual({ url: `${REPOSITORY_URL}/issues` });
    expect(pkg.license).toBe("MIT");
    expect(pkg.keywords).toEqual(expect.arrayContaining(["clnrm", "testing", "integration-testing", "containers", "docker"]));
    // marketplace lists a package as a plugin by this keyword (or a `clnrm` field); only plugins carry it.
    expect(pkg.keywords.includes("clnrm-plugin")).toBe(pkg.clnrm !== undefined);
    expect(pkg.files).toContain("README.md");
  });

  it.each(published.map((p) => [p.pkg.name, p] as const))("%s: ships a README whose links work from npm", (_name, { dir }) => {
    const readme = readFileSync(join(packagesDir, dir, "README.md"), "utf8");
    expect(readme.startsWith(`# ${_name}`)).toBe(true);
    // A relative link resolves against the npm page or the installed folder, not the repository.
    const relative = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]).filter((href) => !/^(https?:|#)/.test(href!));
    expect(relative).toEqual([]);
  });
});
