// The programmatic API from vitest: start the services of a test file, use them, and let
// `await using` tear them down however the test ends. Needs only `@clnrm/cli` (and vitest) installed.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startServices, ValidationError } from "@clnrm/cli/api";
import { describe, expect, it } from "vitest";

const file = join(import.meta.dirname, "services.clnrm.toml");

describe("startServices", () => {
  it("starts the file's services, execs in them, and stops them on dispose", async () => {
    let runId = "";
    {
      await using env = await startServices(file);
      runId = env.runId;
      expect(env.output("box", "host")).toBe("localhost");
      const greeting = await env.exec("box", ["sh", "-c", 'echo "$GREETING"']);
      expect(greeting).toMatchObject({ exitCode: 0, stdout: "hello-from-box\n" });
      expect((await env.exec("box", ["cat", "/data/state"])).stdout).toBe("ready\n");
      expect(() => env.output("box", "nope")).toThrow(ValidationError);
    }
    // Disposed at the end of the block: nothing of this run is left on the engine.
    const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" });
    expect(left.trim()).toBe("");
  });
});
