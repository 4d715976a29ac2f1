import { describe, expect, it } from "vitest";
import { leftFor, runFile, tempDir } from "./steps-fixture.js";

// A step with `image` runs in a throwaway container of that image that shares the service's network
// namespace: localhost there is the service. Against the real engine: the service (busybox, which has
// no curl) serves a page on port 8080; the step runs curl from clnrm-test/tools on localhost:8080.
const dir = tempDir("clnrm-steps-image-");

const serve = `["sh", "-c", "mkdir -p /www && echo hello-from-svc > /www/index.html && exec httpd -f -p 8080 -h /www"]`;

const file = (step: string) => `[meta]
name = "step image"

[services.svc]
type = "box"
command = ${serve}

[[steps]]
name = "fetch"
service = "svc"
${step}
`;

/** Step containers (label clnrm.step) of a run that exist at the moment of the call. */
const stepContainers = (runId: string) => leftFor(runId, "clnrm.step");

describe("a step with image (real engine)", () => {
  it("reaches the service on localhost from its own image, and its container is gone when the step ends", async () => {
    let runId = "";
    let afterStep: string | undefined;
    const { result, left } = await runFile(
      dir,
      file(`image = "clnrm-test/tools:latest"\ncommand = ["curl", "-sf", "http://localhost:8080/"]\nexpected_output_regex = "hello-from-svc"\nretries = 20\nretry_interval = "100ms"`),
      {
        onEvent: (e) => {
          if (e.type === "test:start") runId = e.runId;
          if (e.type === "step:end") afterStep = stepContainers(runId);
        },
      },
    );
    expect(result.steps[0]?.failure).toBeUndefined();
    expect(result.status).toBe("passed");
    expect(result.steps[0]?.stdout).toBe("hello-from-svc\n");
    expect(afterStep).toBe("");
    expect(left).toBe("");
  });

  it("without image, the same step fails: curl is not in the service's image", async () => {
    const { result } = await runFile(dir, file(`command = ["curl", "-sf", "http://localhost:8080/"]`));
    expect(result.steps[0]?.failure).toMatch(/^'curl' is not in image 'clnrm-test\/busybox:latest' of service 'svc'/);
  });

  it("is removed when the step times out, and the timeout is reported", async () => {
    let runId = "";
    let afterStep: string | undefined;
    const { result, left, ms } = await runFile(dir, file(`image = "clnrm-test/tools:latest"\ncommand = ["sleep", "300"]\ntimeout = "1s"`), {
      onEvent: (e) => {
        if (e.type === "test:start") runId = e.runId;
        if (e.type === "step:end") afterStep = stepContainers(runId);
      },
    });
    expect(result.steps[0]?.status).toBe("failed");
    expect(result.steps[0]?.exitCode).toBe(124);
    expect(result.steps[0]?.stderr).toContain("timed out after 1 s");
    expect(afterStep).toBe("");
    expect(left).toBe("");
    expect(ms).toBeLessThan(15_000);
  });

  it("names its own image when the command is not in it", async () => {
    const { result } = await runFile(dir, file(`image = "clnrm-test/debian:bookworm"\ncommand = ["curl", "-sf", "http://localhost:8080/"]`));
    expect(result.steps[0]?.failure).toBe("'curl' is not in image 'clnrm-test/debian:bookworm' — use a command the image has, or another image");
  });

  it("is removed when the run is interrupted during the step", async () => {
    const controller = new AbortController();
    let runId = "";
    let during: string | undefined;
    const { result, left, ms } = await runFile(dir, file(`image = "clnrm-test/tools:latest"\ncommand = ["sleep", "300"]`), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "test:start") runId = e.runId;
        if (e.type === "step:start") {
          setTimeout(() => {
            during = stepContainers(runId);
            controller.abort(new Error("SIGINT"));
          }, 2_000);
        }
      },
    });
    expect(during).not.toBe("");
    expect(result.status).toBe("error");
    expect(left).toBe("");
    expect(ms).toBeLessThan(15_000);
  });

  it("without service, runs on the run's network and reaches a service by name", async () => {
    const { result, left } = await runFile(
      dir,
      `[meta]\nname = "by name"\n\n[services.svc]\ntype = "box"\ncommand = ${serve}\n\n[services.other]\ntype = "box"\n\n[[steps]]\nname = "fetch"\nimage = "clnrm-test/tools:latest"\ncommand = ["curl", "-sf", "http://svc:8080/"]\nexpected_output_regex = "hello-from-svc"\nretries = 20\nretry_interval = "100ms"\n`,
    );
    expect(result.steps[0]?.failure).toBeUndefined();
    expect(result.status).toBe("passed");
    expect(left).toBe("");
  });

  it("an image that is not there fails the step in one line naming it", async () => {
    const { result, left } = await runFile(dir, file(`image = "clnrm-test/no-such-image:1"\ncommand = ["true"]`));
    expect(left).toBe("");
    expect(result.steps[0]?.status).toBe("failed");
    expect(result.steps[0]?.failure).toMatch(/^cannot run image 'clnrm-test\/no-such-image:1' for the step: image 'clnrm-test\/no-such-image:1' not found locally/);
    expect(result.steps[0]?.failure).not.toContain("\n");
  });
});
