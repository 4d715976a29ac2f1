// runStep on its own, and startServices (the programmatic API), against the real engine: the step
// runs in a container started here, without a test file or a run around it.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ContainerBackend, type RunningContainer, ValidationError } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRunId, type PluginResolver, runStep, startServices, stepSchema } from "../src/index.js";
import { box, leftFor, tempDir } from "./steps-fixture.js";

const backend = dockerBackend();
const dir = tempDir("clnrm-run-loop-step-");
const runId = newRunId();
let container: RunningContainer;

beforeAll(async () => {
  container = await backend.run({ image: "clnrm-test/busybox:latest", keepAlive: true }, { runId, service: "box" });
}, 60_000);
afterAll(async () => {
  await container?.remove({ timeoutMs: 0 });
  expect(leftFor(runId)).toBe("");
});

const step = (s: Record<string, unknown>) => stepSchema.parse({ name: "s", service: "box", ...s });
const target = () => ({ container, cwd: dir });
const signal = () => new AbortController().signal;

describe("runStep (real engine)", () => {
  it("runs in the container with the step's env and workdir, and checks output and exit code", async () => {
    const r = await runStep(step({ command: ["sh", "-c", 'echo "$GREETING from $(pwd)"; exit 4'], env: { GREETING: "hi" }, workdir: "/tmp", expected_exit_code: 4, expected_output_regex: "^hi from /tmp$" }), target(), signal());
    expect(r).toMatchObject({ status: "passed", exitCode: 4, attempts: 1, stdout: "hi from /tmp\n", service: "box" });
    const bad = await runStep(step({ command: ["echo", "other"], expected_output_regex: "^hi$" }), target(), signal());
    expect(bad.status).toBe("failed");
    expect(bad.failure).toContain("^hi$");
    expect(bad.exitCode).toBe(0);
  });

  it("retries until the command passes, and counts the attempts", async () => {
    const counter = `/tmp/count-${Math.random().toString(36).slice(2)}`;
    const r = await runStep(
      step({ command: ["sh", "-c", `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`], retries: 5, retry_interval: "50ms" }),
      target(),
      signal(),
    );
    expect(r).toMatchObject({ status: "passed", attempts: 3 });
    const out = await runStep(step({ command: ["false"], retries: 2, retry_interval: "10ms" }), target(), signal());
    expect(out).toMatchObject({ status: "failed", attempts: 3, exitCode: 1 });
  });

  it("a step that names a service without a container fails, and never runs on the host", async () => {
    const r = await runStep(step({ command: ["sh", "-c", `touch ${join(dir, "ran-on-host")}`] }), { container: undefined, cwd: dir }, signal());
    expect(r).toMatchObject({ status: "failed", failure: "service 'box' has no container to exec in", attempts: 0 });
    expect(existsSync(join(dir, "ran-on-host"))).toBe(false);
  });

  it("without service it runs on the host, in the given directory", async () => {
    const r = await runStep(stepSchema.parse({ name: "host", command: ["sh", "-c", "pwd"] }), { container: undefined, cwd: dir }, signal());
    expect(r).toMatchObject({ status: "passed", service: undefined });
    expect(r.stdout.trim()).toBe(dir);
  });

  it("an abort stops the step at once", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    const r = await runStep(step({ command: ["sleep", "30"] }), target(), controller.signal);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe("failed");
    expect(r.stderr).toContain("interrupted");
  });
});

describe("startServices (real engine)", () => {
  const resolver: PluginResolver = { resolve: async () => ({ definition: box, package: "inline", version: undefined }) };

  it("starts the file's services, execs in them, gives their outputs, and stops them on dispose", async () => {
    const file = join(dir, "two.clnrm.toml");
    writeFileSync(file, '[services.a]\ntype = "box"\n\n[services.b]\ntype = "box"\ndepends_on = ["a"]\n\n[[steps]]\nname = "not run"\nservice = "a"\ncommand = ["false"]\n');
    let id = "";
    {
      await using env = await startServices(file, { backend, resolver });
      id = env.runId;
      expect([...env.outputs.keys()].sort()).toEqual(["a", "b"]);
      const r = await env.exec("b", ["ping", "-c", "1", "-W", "5", "a"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(env.container("a").id).toBeTruthy();
      expect(() => env.output("nope", "host")).toThrow(ValidationError);
      expect(() => env.output("a", "nope")).toThrow(/service 'a' has no output 'nope'/);
      expect(leftFor(id)).not.toBe("");
    }
    expect(leftFor(id)).toBe("");
  }, 60_000);

  it("a failed start throws and leaves nothing", async () => {
    const file = join(dir, "bad.clnrm.toml");
    writeFileSync(file, '[services.a]\ntype = "box"\n\n[services.b]\ntype = "box"\nimage = "clnrm-test/no-such-image:never"\ndepends_on = ["a"]\n');
    // The real engine; only the run id is read, where the run's network is made.
    const runIds: string[] = [];
    const watched: ContainerBackend = {
      name: backend.name,
      ping: () => backend.ping(),
      run: (spec, options) => backend.run(spec, options),
      createNetwork: (id) => {
        runIds.push(id);
        return backend.createNetwork(id);
      },
      sweep: (options) => backend.sweep(options),
    };
    const events: string[] = [];
    const err = await startServices(file, { backend: watched, resolver, onEvent: (e) => e.type === "service:starting" && events.push(e.service) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("no-such-image");
    expect(events).toEqual(["a", "b"]);
    expect(runIds).toHaveLength(1);
    expect(leftFor(runIds[0]!)).toBe("");
    expect(execFileSync("docker", ["network", "ls", "-q", "--filter", `label=clnrm.run=${runIds[0]}`], { encoding: "utf8" }).trim()).toBe("");
  }, 60_000);
});
