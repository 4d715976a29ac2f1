// The programmatic API from vitest: start the services of a test file, use their outputs, and let
// `await using` tear them down however the test ends.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startServices } from "@clnrm/runner";
import { describe, expect, it } from "vitest";

const file = join(import.meta.dirname, "web.clnrm.toml");

describe("startServices", () => {
  it("starts the file's services, exposes outputs, and stops them on dispose", async () => {
    let runId = "";
    {
      await using env = await startServices(file);
      runId = env.runId;
      const url = env.output("web", "url");
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      expect(await (await fetch(`${url}/index.html`)).text()).toBe("hello-from-web\n");
      const r = await env.exec("web", ["cat", "/www/index.html"]);
      expect(r.stdout).toBe("hello-from-web\n");
      expect(() => env.output("web", "nope")).toThrow("service 'web' has no output 'nope'");
    }
    const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" });
    expect(left.trim()).toBe("");
  });
});
