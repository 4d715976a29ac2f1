import { execFileSync, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const cli = (...args: string[]) => spawnSync("node", [resolve(root, "packages/cli/dist/bin.js"), ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });

describe("chaos_engine end to end through the cli (real Docker)", () => {
  it("a chaos target that does not exist is a validation error with file:line:col (exit 2)", () => {
    for (const cmd of ["validate", "run"]) {
      const r = cli(cmd, "packages/plugin-chaos-engine/test/fixtures/missing-target.clnrm.toml");
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/missing-target\.clnrm\.toml:7:12: .*no service named 'nope'/);
    }
  });

  it("examples/latency.clnrm.toml: 200 ms latency makes the curl step take >= 0.2 s, exits 0, leaves nothing", () => {
    const before = execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" });
    const r = cli("run", "packages/plugin-chaos-engine/examples/latency.clnrm.toml");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/latency on 'web' through (proxy|netem)/);
    expect(r.stdout + r.stderr).toMatch(/recovered 'web'/);
    const run = /\(run ([0-9a-z-]+)\)/.exec(r.stdout + r.stderr)?.[1];
    expect(run).toBeTruthy();
    expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${run}`], { encoding: "utf8" }).trim()).toBe("");
    expect(execFileSync("docker", ["ps", "-a", "-q", "--filter", "label=clnrm.service=chaos"], { encoding: "utf8" })).toBe(before);
  });
});
