import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFile, tempDir } from "./steps-fixture.js";

// Images without the tools clnrm needs for a step's timeout kill (sh, grep) or for a step container
// (/bin/sh): the report says what could not be done instead of claiming it was. The images are made
// here from the local busybox image (docker commit, no registry) and removed afterwards.
const dir = tempDir("clnrm-steps-bare-");
const tag = randomUUID().slice(0, 8);
const noGrep = `clnrm-test/t3-nogrep:${tag}`;
const noSh = `clnrm-test/t3-nosh:${tag}`;

function commitWithout(base: string, image: string, paths: string[]): void {
  const id = execFileSync("docker", ["create", "--label", "clnrm-test=t3", base, "rm", "-f", ...paths], { encoding: "utf8" }).trim();
  try {
    execFileSync("docker", ["start", "-a", id]);
    execFileSync("docker", ["commit", "-c", 'CMD ["sleep", "600"]', id, image]);
  } finally {
    execFileSync("docker", ["rm", "-f", id]);
  }
}

beforeAll(() => {
  // (busybox's sh runs its grep applet without /bin/grep, so the grep-less image is Debian's)
  commitWithout("clnrm-test/debian:bookworm", noGrep, ["/usr/bin/grep"]);
  commitWithout("clnrm-test/busybox:latest", noSh, ["/bin/sh"]);
});

afterAll(() => {
  execFileSync("docker", ["rmi", "-f", noGrep, noSh]);
});

const timesOut = (image: string) => `[meta]
name = "bare"

[services.svc]
type = "box"
image = "${image}"
command = ["sleep", "600"]

[[steps]]
name = "hang"
service = "svc"
command = ["sleep", "1001"]
timeout = "1s"
`;

describe("a step's timeout in an image without sh or grep (real engine)", () => {
  it("without grep: says what it started may still be running, and why", async () => {
    const { result, left } = await runFile(dir, timesOut(noGrep));
    expect(left).toBe("");
    expect(result.steps[0]?.failure).toMatch(/^timed out after 1 s; what it started may still be running in the container \(could not kill it: the image has no grep\)\n/);
  });

  it("without sh: the same, naming sh", async () => {
    const { result, left } = await runFile(dir, timesOut(noSh));
    expect(left).toBe("");
    expect(result.steps[0]?.failure).toMatch(/^timed out after 1 s; what it started may still be running in the container \(could not kill it: the image has no sh\)\n/);
  });

  it("a step image without /bin/sh can't be kept alive: the step says so in one line", async () => {
    const { result, left } = await runFile(
      dir,
      `[meta]\nname = "bare"\n\n[services.svc]\ntype = "box"\n\n[[steps]]\nname = "x"\nservice = "svc"\nimage = "${noSh}"\ncommand = ["true"]\n`,
    );
    expect(left).toBe("");
    expect(result.steps[0]?.failure).toBe(
      `image '${noSh}' has no /bin/sh, which a step's own container needs (clnrm keeps it running with a shell while the step execs in it) — use an image that has one`,
    );
    expect(result.steps[0]?.failure).not.toContain("\n");
  });
});
