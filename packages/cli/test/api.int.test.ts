// `@clnrm/cli/api`: the programmatic API from the package a user installs, resolved through the
// package's own `exports` (a self-reference, as from a user's project), against the real engine.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const file = join(import.meta.dirname, "api-fixtures/box.clnrm.toml");
const containersOf = (runId: string) =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();

describe("@clnrm/cli/api", () => {
  it("resolves through package.json exports to the built entry", () => {
    const require = createRequire(import.meta.url);
    expect(require.resolve("@clnrm/cli/api")).toBe(join(import.meta.dirname, "../dist/api.js"));
    const pkg = JSON.parse(readFileSync(require.resolve("@clnrm/cli/package.json"), "utf8"));
    expect(pkg.exports["./api"]).toEqual({ types: "./dist/api.d.ts", default: "./dist/api.js" });
  });

  it("adds the CLI's own directory to the plugin search roots (pnpm's strict layout hides its dependencies from the project)", async () => {
    await import("@clnrm/cli/api");
    const { searchRoots } = await import("@clnrm/marketplace/list");
    expect(searchRoots("/nowhere", { cwd: "/nowhere" })).toContainEqual({ dir: join(import.meta.dirname, "../dist"), from: "cli" });
  });

  it("starts a generic_container service with `await using` and tears it down on scope exit", async () => {
    const api = await import("@clnrm/cli/api");
    expect(typeof api.startServices).toBe("function");
    let runId = "";
    {
      await using env = await api.startServices(file);
      runId = env.runId;
      expect(containersOf(runId)).not.toBe("");
      expect(env.output("box", "host")).toBe("localhost");
      const r = await env.exec("box", ["sh", "-c", "echo $GREETING"]);
      expect(r).toMatchObject({ exitCode: 0, stdout: "hello-from-api\n" });
      expect(() => env.output("box", "nope")).toThrow(api.ValidationError);
    }
    expect(runId).not.toBe("");
    expect(containersOf(runId)).toBe("");
  });

  it("tears down when the scope throws", async () => {
    const api = await import("@clnrm/cli/api");
    let runId = "";
    await expect(
      (async () => {
        await using env = await api.startServices(file);
        runId = env.runId;
        throw new Error("test body failed");
      })(),
    ).rejects.toThrow("test body failed");
    expect(containersOf(runId)).toBe("");
  });
});
