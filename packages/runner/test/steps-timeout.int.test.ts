import { describe, expect, it } from "vitest";
import { runFile, tempDir } from "./steps-fixture.js";

// At a container step's timeout, what the step started in the service is killed: nothing keeps
// running there afterwards. The later step lists the container's processes (busybox ps).
const dir = tempDir("clnrm-steps-timeout-");

const file = (command: string) => `[meta]
name = "timeout"

[services.svc]
type = "box"

[[steps]]
name = "hang"
service = "svc"
command = ${command}
timeout = "1s"
continue_on_failure = true

[[steps]]
name = "ps"
service = "svc"
command = ["ps", "-o", "pid,args"]
`;

describe("a container step's timeout (real engine)", () => {
  it("kills the command and the background processes it started", async () => {
    const { result, left, ms } = await runFile(dir, file(`["sh", "-c", "echo started; sleep 1001 & sleep 1002"]`));
    expect(left).toBe("");
    expect(ms).toBeLessThan(15_000);
    const [hang, ps] = result.steps;
    expect(hang?.status).toBe("failed");
    expect(hang?.exitCode).toBe(124);
    expect(hang?.stdout).toBe("started\n");
    expect(hang?.stderr).toBe("timed out after 1 s; what it started in the container was killed\n");
    expect(hang?.failure).toBe("timed out after 1 s; what it started in the container was killed\n  stdout (last lines):\n    started\n  stderr: (empty)\n");
    expect(ps?.status).toBe("passed");
    expect(ps?.stdout).toMatch(/PID/);
    expect(ps?.stdout).not.toMatch(/sleep 100[12]/);
  });

  it("kills a loop that keeps forking", async () => {
    const { result } = await runFile(dir, file(`["sh", "-c", "while :; do sleep 1003; done & while :; do sleep 1004; done"]`));
    expect(result.steps[0]?.exitCode).toBe(124);
    expect(result.steps[1]?.stdout).not.toMatch(/sleep 100[34]/);
  });

  it("a host step's timeout is reported as such too", async () => {
    const { result } = await runFile(dir, `[meta]\nname = "host"\n\n[[steps]]\nname = "hang"\ncommand = ["sh", "-c", "echo waiting; sleep 30"]\ntimeout = "1s"\n`);
    expect(result.steps[0]?.failure).toBe("timed out after 1 s\n  stdout (last lines):\n    waiting\n  stderr: (empty)\n");
  });

  it("a command that exits 124 by itself is not reported as a timeout", async () => {
    const { result } = await runFile(dir, file(`["sh", "-c", "exit 124"]`));
    expect(result.steps[0]?.failure).toMatch(/^expected exit code 0, got 124\n/);
  });
});
