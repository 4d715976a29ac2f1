import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { scaffoldPlugin } from "../src/index.js";
import { cleanup, tempDir } from "./fixtures.js";

afterEach(cleanup);

const REPO = resolve(import.meta.dirname, "../../..");
const dist = (pkg: string, file = "index.js") => join(REPO, "packages", pkg, "dist", file);

// A fresh `clnrm plugins new @acme/x` passes its own test file: the spec tests and the conformance
// suite against the real engine. The scaffold isn't installed; its imports are mapped to the workspace.
describe("a fresh scaffold", () => {
  it("passes its own tests, conformance suite included", async () => {
    const r = scaffoldPlugin({ name: "@acme/x", parentDir: tempDir() });
    const alias = {
      "@clnrm/core/testing": dist("core", "testing/index.js"),
      "@clnrm/core": dist("core"),
      // Subpaths first: an alias also matches what starts with its key.
      ...Object.fromEntries(["errors", "plugin", "health", "capabilities", "spec"].map((m) => [`@clnrm/plugin-api/${m}`, dist("plugin-api", `${m}.js`)])),
      "@clnrm/plugin-api": dist("plugin-api"),
      "@clnrm/plugin-kit": dist("plugin-kit"),
      "@clnrm/docker": dist("docker"),
      vitest: join(REPO, "node_modules/vitest/dist/index.js"),
    };
    const config = join(r.dir, "vitest.config.mjs");
    writeFileSync(config, `export default { resolve: { alias: ${JSON.stringify(alias)} }, test: { include: ["test/**/*.test.ts"], testTimeout: 120000 } };\n`);
    const vitest = join(REPO, "node_modules/vitest/vitest.mjs");
    const out = await promisify(execFile)(process.execPath, [vitest, "run", "--root", r.dir, "--config", config, "--reporter", "verbose"], {
      env: { ...process.env, NO_COLOR: "1", TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost" },
    }).then(
      (o) => ({ code: 0, text: o.stdout + o.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, text: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
    );
    expect(out.text).toContain("plugin conformance: @acme/x");
    expect(out.code, out.text).toBe(0);
    expect(out.text).not.toMatch(/\bskipped\b/);
  }, 240_000);
});
