import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES, type RunningContainer } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepSchema } from "../src/schema.js";
import { runStep } from "../src/steps.js";

const run = promisify(execFile);
const backend = new DockerBackend();
const runId = `t-${randomUUID().slice(0, 8)}`;
let box: RunningContainer;

beforeAll(async () => {
  box = await backend.run({ image: "clnrm-test/busybox:latest", command: ["sleep", "600"] }, { runId, service: "box" });
});

afterAll(async () => {
  await box?.remove();
  await backend.sweep({ runId });
  const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${runId}`]);
  expect(stdout.trim()).toBe("");
});

// 3 MB of 'a' lines, a marker line in the middle, 3 MB more: far more than the kept head and tail.
const script = "yes aaaaaaaaaaaaaaa | head -c 3000000; echo MIDDLE-MARKER; yes bbbbbbbbbbbbbbb | head -c 3000000; echo; echo END";
const limit = OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 200;

function step(extra: Record<string, unknown> = {}) {
  return stepSchema.parse({ name: "big", command: ["sh", "-c", script], ...extra });
}

describe.each([
  ["on the host", () => undefined],
  ["in a container", () => box],
])("long output %s", (_where, container) => {
  const target = () => ({ container: container(), cwd: process.cwd() });

  it("keeps a bounded head and tail and says how much was cut", async () => {
    const r = await runStep(step(), target(), new AbortController().signal);
    expect(r.status).toBe("passed");
    expect(r.stdout.length).toBeLessThan(limit);
    expect(r.stdout.startsWith("aaaaaaaaaaaaaaa\n")).toBe(true);
    expect(r.stdout.endsWith("\nEND\n")).toBe(true);
    const cut = /\[output cut: (\d+) bytes omitted\]/.exec(r.stdout);
    expect(cut).not.toBeNull();
    expect(Number(cut![1])).toBe(6_000_000 + "MIDDLE-MARKER\n\nEND\n".length - OUTPUT_HEAD_BYTES - OUTPUT_TAIL_BYTES);
    expect(r.stdout).not.toContain("MIDDLE-MARKER");
  });

  it("matches expected_output_regex against the whole stream, not only what was kept", async () => {
    const hit = await runStep(step({ expected_output_regex: "^MIDDLE-MARKER$" }), target(), new AbortController().signal);
    expect(hit.failure).toBeUndefined();
    const miss = await runStep(step({ expected_output_regex: "^NOT-THERE$" }), target(), new AbortController().signal);
    expect(miss.status).toBe("failed");
    expect(miss.failure).toContain("expected stdout to match /^NOT-THERE$/");
  });
});
