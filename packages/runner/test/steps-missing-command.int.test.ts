import { describe, expect, it } from "vitest";
import { runFile, tempDir } from "./steps-fixture.js";

// A step whose command is not in the service's image fails with one line that names the command and
// the image and says what to do (against the real engine: busybox has no curl).
const dir = tempDir("clnrm-steps-missing-");

const file = (command: string, extra = "") => `[meta]
name = "missing command"

[services.svc]
type = "box"

[[steps]]
name = "fetch"
service = "svc"
command = ${command}
${extra}
`;

describe("a step whose command is not in the image (real engine)", () => {
  it("an exec of a missing binary: one line naming the command, the image and the way out", async () => {
    const { result, left } = await runFile(dir, file(`["curl", "-s", "http://localhost:8080/"]`, "retries = 3\nretry_interval = \"100ms\""));
    expect(left).toBe("");
    const [step] = result.steps;
    expect(step?.status).toBe("failed");
    expect(step?.failure).toBe(
      `'curl' is not in image 'clnrm-test/busybox:latest' of service 'svc' — use a command the image has, or set image = "<an image with curl>" on the step to run it in its own container that shares the service's network`,
    );
    // Retrying can't add a command to an image.
    expect(step?.attempts).toBe(1);
  });

  it("a shell's 'not found' (exit 127) names the command too", async () => {
    const { result } = await runFile(dir, file(`["sh", "-c", "echo trying; curl -s http://localhost:8080/"]`));
    expect(result.steps[0]?.failure).toMatch(/^'curl' is not in image 'clnrm-test\/busybox:latest' of service 'svc' — use a command the image has, or set image = /);
    expect(result.steps[0]?.failure).not.toContain("\n");
  });

  it("a path that is not executable says so", async () => {
    const { result } = await runFile(dir, file(`["/etc/passwd"]`));
    expect(result.steps[0]?.failure).toMatch(/^'\/etc\/passwd' is not executable in image 'clnrm-test\/busybox:latest' of service 'svc' — /);
  });

  it("a host step (no service) whose command is not on PATH says it ran on the host", async () => {
    const { result } = await runFile(dir, `[meta]\nname = "host"\n\n[[steps]]\nname = "fetch"\ncommand = ["clnrm-no-such-command-t3"]\n`);
    expect(result.steps[0]?.failure).toMatch(/^'clnrm-no-such-command-t3' is not on this machine's PATH \(a step without service runs on the host\) — /);
  });

  it("a step that expects exit 127 still passes", async () => {
    const { result } = await runFile(dir, file(`["sh", "-c", "curl -s x"]`, "expected_exit_code = 127"));
    expect(result.steps[0]?.status).toBe("passed");
  });
});
