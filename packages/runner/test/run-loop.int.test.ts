// The run loop itself (runTest and ServiceSet), against the real engine: start by dependency, outputs
// flowing into later services and steps, a failed start, step failure and skipping, the test's own
// timeout, an interruption, secrets registered as the run starts, and teardown in reverse order.
// The services are containers of a local test image, started by a small plugin defined here.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { clearSecrets, definePlugin, REDACTED, redact, ValidationError, z } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { describe, expect, it } from "vitest";
import { newRunId, type PluginResolver, planTest, type RunEvent, runTest, ServiceSet, type TestPlan } from "../src/index.js";
import { leftFor, tempDir } from "./steps-fixture.js";

const backend = dockerBackend();
const dir = tempDir("clnrm-run-loop-");
/** What the plugin's start and stop did, in order ("start:a", "stop:a"). */
const calls: string[] = [];

const node = definePlugin({
  type: "node",
  description: "test plugin: one busybox container, with env, fixed outputs, a start delay or a failure after its container started",
  configSchema: z.strictObject({
    env: z.record(z.string(), z.string()).default({}),
    outputs: z.record(z.string(), z.string()).default({}),
    delay_ms: z.number().int().min(0).default(0),
    fail: z.string().optional(),
  }),
  create: (cfg) => ({
    async start(ctx) {
      calls.push(`start:${ctx.service}`);
      const c = await ctx.backend.run(
        { image: "clnrm-test/busybox:latest", keepAlive: true, env: cfg.env },
        { runId: ctx.runId, service: ctx.service, ...(ctx.network ? { network: ctx.network } : {}), signal: ctx.signal },
      );
      if (cfg.delay_ms) await sleep(cfg.delay_ms, undefined, { signal: ctx.signal });
      if (cfg.fail) throw new ValidationError(cfg.fail);
      return { service: ctx.service, primary: c, containers: [c], outputs: { ...cfg.outputs, host: c.name } };
    },
    async healthCheck() {
      return { status: "healthy" as const };
    },
    async stop(h) {
      calls.push(`stop:${h.service}`);
      await Promise.all(h.containers.map((c) => c.remove({ timeoutMs: 0 })));
    },
  }),
});
const resolver: PluginResolver = { resolve: async () => ({ definition: node, package: "inline", version: undefined }) };

async function plan(toml: string): Promise<TestPlan> {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(file, toml);
  return planTest(file, resolver);
}

function networksOf(runId: string): string {
  return execFileSync("docker", ["network", "ls", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

async function run(p: TestPlan, options: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {}) {
  calls.length = 0;
  const events: RunEvent[] = [];
  const result = await runTest(p, {
    backend,
    ...options,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  return { result, events, left: leftFor(result.runId), networks: networksOf(result.runId) };
}

const eventKeys = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === "service:starting" || e.type === "service:ready" || e.type === "service:failed" ? [`${e.type.slice(8)}:${e.service}`] : []));

describe("runTest: the run loop (real engine)", () => {
  it("starts each service once its dependencies are ready, passes outputs to later services and steps, tears down in reverse order", async () => {
    const p = await plan(`
[services.a]
type = "node"
outputs = { token = "tok-from-a" }
delay_ms = 300

[services.b]
type = "node"
delay_ms = 300

[services.c]
type = "node"
env = { TOKEN = "\${services.a.token}" }

[services.d]
type = "node"
depends_on = ["c"]

[[steps]]
name = "c got a's output in its env"
service = "c"
command = ["sh", "-c", "echo \\"$TOKEN\\""]
expected_output_regex = "^tok-from-a$"

[[steps]]
name = "a step gets an output in its command"
service = "d"
command = ["echo", "\${services.a.token}"]
expected_output_regex = "^tok-from-a$"

[[steps]]
name = "services reach each other by name on the run's network"
service = "d"
command = ["ping", "-c", "1", "-W", "5", "a"]
`);
    expect(p.waves).toEqual([["a", "b"], ["c"], ["d"]]);
    const { result, events, left, networks } = await run(p);
    expect(result.status, result.error?.message ?? JSON.stringify(result.steps)).toBe("passed");
    expect(result.steps.map((s) => s.status)).toEqual(["passed", "passed", "passed"]);
    expect(result.steps[1]?.stdout.trim()).toBe("tok-from-a");
    // a and b start together (both before either is ready); c once a (its only dependency) is ready; d after c.
    const order = eventKeys(events);
    const at = (k: string) => order.indexOf(k);
    expect(order.slice(0, 2).sort()).toEqual(["starting:a", "starting:b"]);
    expect(at("starting:c")).toBeGreaterThan(at("ready:a"));
    expect(at("starting:d")).toBeGreaterThan(at("ready:c"));
    expect(result.services.map((s) => [s.name, s.status])).toEqual([["a", "running"], ["b", "running"], ["c", "running"], ["d", "running"]]);
    // The critical path: d, ready last, waited for c, which waited for a.
    const all = events.find((e) => e.type === "services:ready");
    expect(all?.type === "services:ready" && all.criticalPath.map((p) => p.service)).toEqual(["a", "c", "d"]);
    // Teardown: a service after everything that depends on it (d, then c, then a; b whenever).
    const stops = calls.filter((c) => c.startsWith("stop:"));
    expect([...stops].sort()).toEqual(["stop:a", "stop:b", "stop:c", "stop:d"]);
    expect(stops.indexOf("stop:d")).toBeLessThan(stops.indexOf("stop:c"));
    expect(stops.indexOf("stop:c")).toBeLessThan(stops.indexOf("stop:a"));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("test:start");
    expect(types.slice(-2)).toEqual(["teardown", "test:end"]);
    expect(left).toBe("");
    expect(networks).toBe("");
  }, 120_000);

  it("a slow service delays only what depends on it: c (after the fast b) starts and is ready before the slow a is", async () => {
    const p = await plan(`
[services.a]
type = "node"
delay_ms = 2500

[services.b]
type = "node"

[services.c]
type = "node"
depends_on = ["b"]

[[steps]]
name = "c runs"
service = "c"
command = ["true"]
`);
    // In waves this would be [[a, b], [c]]: c waiting for a too.
    expect(p.waves).toEqual([["a", "b"], ["c"]]);
    const { result, events, left, networks } = await run(p);
    expect(result.status, result.error?.message).toBe("passed");
    const order = eventKeys(events);
    expect(order.indexOf("starting:c")).toBeGreaterThan(order.indexOf("ready:b"));
    expect(order.indexOf("ready:c")).toBeLessThan(order.indexOf("ready:a"));
    const all = events.find((e) => e.type === "services:ready");
    if (all?.type !== "services:ready") throw new Error("no services:ready event");
    // a alone decided when the services were ready; it started at once and took its 2.5 s.
    expect(all.criticalPath.map((e) => e.service)).toEqual(["a"]);
    expect(all.criticalPath[0]!.readyMs - all.criticalPath[0]!.startMs).toBeGreaterThanOrEqual(2_500);
    const c = result.services.find((s) => s.name === "c")!;
    const a = result.services.find((s) => s.name === "a")!;
    expect(c.startMs!).toBeLessThan(a.startMs!);
    expect(left).toBe("");
    expect(networks).toBe("");
  }, 120_000);

  it("a service that fails to start: later waves never start, what started is torn down, no step runs", async () => {
    const p = await plan(`
[services.a]
type = "node"

[services.b]
type = "node"
depends_on = ["a"]
fail = "b cannot start: it says so"

[services.c]
type = "node"
depends_on = ["b"]

[[steps]]
name = "never"
service = "a"
command = ["true"]
`);
    const { result, events, left, networks } = await run(p);
    expect(result.status).toBe("error");
    expect(events.find((e) => e.type === "service:failed")).toMatchObject({ service: "b" });
    expect(result.error?.message).toContain("b cannot start: it says so");
    expect(result.steps).toEqual([]);
    expect(Object.fromEntries(result.services.map((s) => [s.name, s.status]))).toEqual({ a: "running", b: "failed", c: "not_started" });
    expect(eventKeys(events)).toEqual(["starting:a", "ready:a", "starting:b", "failed:b"]);
    expect(calls).not.toContain("start:c");
    expect(calls).toContain("stop:a");
    // b's container, started before b's plugin threw, is gone too.
    expect(left).toBe("");
    expect(networks).toBe("");
  }, 120_000);

  it("a failed step skips the rest, unless it continues on failure", async () => {
    const p = await plan(`
[services.a]
type = "node"

[[steps]]
name = "fails, continues"
service = "a"
command = ["sh", "-c", "exit 3"]
continue_on_failure = true

[[steps]]
name = "runs"
service = "a"
command = ["echo", "ran"]

[[steps]]
name = "fails"
service = "a"
command = ["false"]

[[steps]]
name = "skipped"
service = "a"
command = ["echo", "never"]
`);
    const { result, events, left, networks } = await run(p);
    expect(result.status).toBe("failed");
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => [s.name, s.status, s.exitCode])).toEqual([
      ["fails, continues", "failed", 3],
      ["runs", "passed", 0],
      ["fails", "failed", 1],
      ["skipped", "skipped", undefined],
    ]);
    // A skipped step is not started.
    expect(events.filter((e) => e.type === "step:start").length).toBe(3);
    expect(left).toBe("");
    // One service: no network is made for it.
    expect(networks).toBe("");
  }, 60_000);

  it("meta.timeout stops the test during a step: error naming the timeout, torn down", async () => {
    const p = await plan(`
[meta]
name = "slow"
timeout = "2s"

[services.a]
type = "node"

[[steps]]
name = "sleeps"
service = "a"
command = ["sleep", "60"]
`);
    const started = performance.now();
    const { result, left } = await run(p);
    const ms = performance.now() - started;
    expect(result.status).toBe("error");
    expect(result.error?.message).toMatch(/^test 'slow' exceeded its timeout of 2 ?s/);
    expect(ms).toBeLessThan(30_000);
    expect(left).toBe("");
  }, 60_000);

  it("an interruption during a start: later waves never start, and what started is torn down", async () => {
    const p = await plan(`
[services.a]
type = "node"

[services.b]
type = "node"
depends_on = ["a"]
delay_ms = 30000

[services.c]
type = "node"
depends_on = ["b"]
`);
    const controller = new AbortController();
    const started = performance.now();
    const { result, left, networks } = await run(p, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "service:starting" && e.service === "b") setTimeout(() => controller.abort(new ValidationError("stopped by the test")), 500);
      },
    });
    expect(performance.now() - started).toBeLessThan(25_000);
    expect(result.status).toBe("error");
    expect(result.error?.message).toContain("stopped by the test");
    expect(Object.fromEntries(result.services.map((s) => [s.name, s.status]))).toMatchObject({ a: "running", c: "not_started" });
    expect(calls).not.toContain("start:c");
    expect(left).toBe("");
    expect(networks).toBe("");
  }, 60_000);

  it("planning registers no secret; the run does, as it starts", async () => {
    clearSecrets();
    const p = await plan(`
[services.a]
type = "node"
env = { API_TOKEN = "run-loop-secret-1" }

[[steps]]
name = "s"
service = "a"
command = ["true"]
env = { DB_PASSWORD = "run-loop-secret-2" }
`);
    expect([...p.secrets].sort()).toEqual(["run-loop-secret-1", "run-loop-secret-2"]);
    expect(redact("run-loop-secret-1 run-loop-secret-2")).toBe("run-loop-secret-1 run-loop-secret-2");
    let seen = "";
    const { result } = await run(p, {
      onEvent: (e) => {
        if (e.type === "service:starting") seen = redact("run-loop-secret-1 run-loop-secret-2");
      },
    });
    expect(result.status).toBe("passed");
    expect(seen).toBe(`${REDACTED} ${REDACTED}`);
    clearSecrets();
  }, 60_000);
});

describe("ServiceSet (real engine)", () => {
  it("makes a network only for several services, hands out containers and outputs, and stop removes everything", async () => {
    const p = await plan('[services.a]\ntype = "node"\noutputs = { k = "v" }\n\n[services.b]\ntype = "node"\ndepends_on = ["a"]\n');
    const runId = newRunId();
    const set = new ServiceSet(p, backend, runId);
    try {
      await set.start(new AbortController().signal);
      expect(set.network).toBeDefined();
      expect(networksOf(runId)).not.toBe("");
      expect(set.outputs.get("a")).toMatchObject({ k: "v" });
      expect(set.lifecycle("b")?.state).toBe("running");
      const r = await set.container("b")!.exec(["ping", "-c", "1", "-W", "5", "a"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(set.container("nope")).toBeUndefined();
    } finally {
      expect(await set.stop()).toEqual([]);
    }
    expect(leftFor(runId)).toBe("");
    expect(networksOf(runId)).toBe("");

    const lone = new ServiceSet(await plan('[services.a]\ntype = "node"\n'), backend, newRunId());
    try {
      await lone.start(new AbortController().signal);
      expect(lone.network).toBeUndefined();
      expect(lone.results.get("a")?.status).toBe("running");
    } finally {
      await lone.stop();
    }
    expect(leftFor(lone.runId)).toBe("");
  }, 120_000);
});
