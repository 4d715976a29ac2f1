// Through the CLI (`node packages/cli/dist/bin.js`, which loads this package's dist), against the
// local rabbitmq:3.10-management (the test build of the real server).
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { leftovers } from "@clnrm/plugin-kit/testing";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../../cli/dist/bin.js");
const example = join(here, "../examples/rabbitmq.clnrm.toml");

async function clnrm(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: join(here, ".."), env: { ...process.env, NO_COLOR: "1" }, timeout: 150_000 });
    return { code: 0, out: `${stdout}\n${stderr}` };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { code: err.code, out: `${err.stdout}\n${err.stderr}` };
  }
}

/** What is left of the run whose id `clnrm run` printed (plugin-kit's leftovers, by label). */
function left(out: string): string[] {
  const runId = /\(run ([a-z0-9-]+)\)/.exec(out)?.[1];
  expect(runId, out).toBeTruthy();
  return leftovers(runId!);
}

describe("clnrm with a rabbitmq service", () => {
  it("run --verbose of the example publishes through the exchanges, reads the bound queues, shows the urls redacted and leaves no container", async () => {
    const { code, out } = await clnrm("run", "--verbose", example);
    expect(code, out).toBe(0);
    expect(out).toContain("mq: declaring 2 exchange(s), 3 queue(s), 3 binding(s)");
    expect(out).toMatch(/✓ step read the order from the bound queue/);
    expect(out).toMatch(/✓ step both bound queues got a copy/);
    expect(out).toMatch(/✓ step a wrong password is refused/);
    expect(out).toMatch(/internal_url = amqp:\/\/shop:\[redacted\]@mq:5672\/shop/);
    expect(out).toMatch(/1 passed, 0 failed/);
    expect(out).not.toContain("ex4mple-Rabb1t");
    expect(left(out)).toEqual([]);
  }, 180_000);

  it("validate and run report a binding to an undeclared queue at its position in the file, exit 2, start nothing", async () => {
    for (const cmd of ["validate", "run"]) {
      const { code, out } = await clnrm(cmd, join(here, "fixtures/undeclared-queue.clnrm.toml"));
      expect(code, out).toBe(2);
      expect(out.trim()).toBe(
        "error: test/fixtures/undeclared-queue.clnrm.toml:8:34: services.mq.bindings[0].queue: binding names queue 'jbos', which is not declared: add it to 'queues'",
      );
    }
  }, 60_000);
});
