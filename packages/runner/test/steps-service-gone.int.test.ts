import { describe, expect, it } from "vitest";
import { runFile, tempDir } from "./steps-fixture.js";

// A service container that exits, or is OOM-killed, during the steps is reported as such: the
// service, its exit code, the OOM flag and its last log lines (not "got 125 ... container is gone").
const dir = tempDir("clnrm-steps-gone-");

const exitsAfter2s = `["sh", "-c", "echo booting; echo giving up now >&2; sleep 2; exit 3"]`;

describe("a service that dies during the steps (real engine)", () => {
  it("exits while a step runs in it: the step reports the service's exit code and last log lines", async () => {
    const { result, left, ms } = await runFile(
      dir,
      `[meta]\nname = "dies"\n\n[services.svc]\ntype = "box"\ncommand = ${exitsAfter2s}\n\n[[steps]]\nname = "wait"\nservice = "svc"\ncommand = ["sleep", "30"]\n`,
    );
    expect(left).toBe("");
    expect(ms).toBeLessThan(20_000);
    const [step] = result.steps;
    expect(step?.status).toBe("failed");
    expect(step?.failure).toMatch(/^service 'svc' is no longer running: its container exited with code 3\n/);
    expect(step?.failure).toContain("last log lines of 'svc':\n");
    expect(step?.failure).toContain("\n    booting\n");
    expect(step?.failure).toContain("\n    giving up now\n");
    expect(step?.failure).not.toMatch(/125|is gone/);
    expect(step?.serviceGone?.state.exitCode).toBe(3);
    const svc = result.services.find((s) => s.name === "svc");
    expect(svc?.status).toBe("failed");
    expect(svc?.error).toBe("service 'svc' is no longer running: its container exited with code 3");
  });

  it("exits before a later step: that step reports it, the earlier one passed", async () => {
    const { result, left } = await runFile(
      dir,
      `[meta]\nname = "dies"\n\n[services.svc]\ntype = "box"\ncommand = ${exitsAfter2s}\n\n[[steps]]\nname = "first"\nservice = "svc"\ncommand = ["echo", "up"]\n\n[[steps]]\nname = "pause"\ncommand = ["sleep", "4"]\n\n[[steps]]\nname = "later"\nservice = "svc"\ncommand = ["echo", "still here"]\nretries = 3\n`,
    );
    expect(left).toBe("");
    expect(result.steps.map((s) => s.status)).toEqual(["passed", "passed", "failed"]);
    const later = result.steps[2];
    expect(later?.failure).toMatch(/^service 'svc' is no longer running: its container exited with code 3\n {2}last log lines of 'svc':\n( {4}.*\n)* {4}booting\n/);
    expect(later?.attempts).toBe(1);
  });

  it("exits before a later step with image: that step reports the service, not the engine's network error", async () => {
    const { result, left } = await runFile(
      dir,
      `[meta]\nname = "dies"\n\n[services.svc]\ntype = "box"\ncommand = ${exitsAfter2s}\n\n[[steps]]\nname = "pause"\ncommand = ["sleep", "4"]\n\n[[steps]]\nname = "later"\nservice = "svc"\nimage = "clnrm-test/tools:latest"\ncommand = ["curl", "-s", "http://localhost:8080/"]\n`,
    );
    expect(left).toBe("");
    expect(result.steps[1]?.failure).toMatch(/^service 'svc' is no longer running: its container exited with code 3\n/);
    expect(result.services.find((s) => s.name === "svc")?.status).toBe("failed");
  });

  it("is OOM-killed: the step says so, with exit code 137", async () => {
    // GNU tail buffers /dev/zero (no newline) in memory until the 32 MiB limit is hit; it is PID 1.
    const { result, left } = await runFile(
      dir,
      `[meta]\nname = "oom"\n\n[services.svc]\ntype = "box"\nimage = "clnrm-test/debian:bookworm"\nmemory_mb = 32\ncommand = ["sh", "-c", "echo eating; sleep 1; exec tail /dev/zero"]\n\n[[steps]]\nname = "wait"\nservice = "svc"\ncommand = ["sleep", "30"]\n`,
    );
    expect(left).toBe("");
    const [step] = result.steps;
    expect(step?.failure).toMatch(/^service 'svc' is no longer running: its container exited with code 137 and was OOM-killed \(out of memory: raise its memory limit\)\n/);
    expect(step?.failure).toContain("    eating");
    expect(step?.serviceGone?.state.oomKilled).toBe(true);
  });
});
