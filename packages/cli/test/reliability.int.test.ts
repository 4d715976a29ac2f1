import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clnrm as runClnrm, leftBy, start as startClnrm } from "./helpers.js";

const start = (args: string[], env?: Record<string, string>) => startClnrm(args, env ? { env } : {});
const clnrm = (args: string[], env?: Record<string, string>) => runClnrm(args, env ? { env } : {});

// Reliability guarantees of the built `clnrm` binary against the real engine: signals tear down
// within 2 s, SIGKILLed runs are collected (gc, or the next run), concurrent runs keep their
// containers through a gc, and a failing service start tears down the rest of its run.
const fixture = (name: string) => join(import.meta.dirname, "reliability-fixtures", name);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("signals: exit 130/143, everything of the run gone within 2 s", () => {
  const cases: [string, NodeJS.Signals, number][] = [
    ["SIGINT", "SIGINT", 130],
    ["SIGTERM", "SIGTERM", 143],
  ];

  it.each(cases)("%s during a service start (slow health check)", async (_name, sig, code) => {
    const run = start(["run", fixture("slow-start.clnrm.toml")]);
    // The slow service's container exists and waits for its health check; the fast one is up.
    await until("the slow service's container", () => leftBy(run.pid, ["clnrm.service=slow"]).length > 0);
    await sleep(500);
    expect(leftBy(run.pid).length).toBeGreaterThanOrEqual(3); // fast, slow, network
    const killedAt = performance.now();
    process.kill(run.pid, sig);
    const r = await run.done;
    const left = leftBy(r.pid);
    const ms = r.exitedAt - killedAt;
    console.log(`${sig} during start: exit ${r.code} after ${ms.toFixed(0)} ms`);
    expect(r.code, r.stderr).toBe(code);
    expect(left).toEqual([]);
    expect(ms).toBeLessThan(2_000);
    expect(r.stderr).toContain(`${sig} received, tearing down`);
  }, 90_000);

  it.each(cases)("%s during a step (two services and a chaos sidecar)", async (_name, sig, code) => {
    const run = start(["run", "--verbose", fixture("long-step.clnrm.toml")]);
    await until("step sleeps", () => run.output().includes("step sleeps"), 90_000);
    await sleep(300);
    // app, db, the chaos sidecar, and the network.
    const before = leftBy(run.pid);
    expect(before.length).toBeGreaterThanOrEqual(4);
    const killedAt = performance.now();
    process.kill(run.pid, sig);
    const r = await run.done;
    const left = leftBy(r.pid);
    const ms = r.exitedAt - killedAt;
    console.log(`${sig} during a step: exit ${r.code} after ${ms.toFixed(0)} ms (${before.length} resources)`);
    expect(r.code, r.stderr).toBe(code);
    expect(left).toEqual([]);
    expect(ms).toBeLessThan(2_000);
  }, 120_000);
});

describe("SIGKILL: the run's containers stay until collected", () => {
  async function killedDuringStep(): Promise<number> {
    const run = start(["run", "--verbose", fixture("concurrent.clnrm.toml")]);
    await until("step sleeps", () => run.output().includes("step sleeps"));
    process.kill(run.pid, "SIGKILL");
    const r = await run.done;
    expect(r.signal).toBe("SIGKILL");
    // Nothing tore down: both containers and the run network remain, labelled with the dead pid.
    expect(leftBy(r.pid).length).toBe(3);
    return r.pid;
  }

  it("clnrm gc removes them", async () => {
    const pid = await killedDuringStep();
    const gc = await clnrm(["gc"]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(/removed [1-9]\d* container\(s\), [1-9]\d* network\(s\)/);
    expect(leftBy(pid)).toEqual([]);
  }, 90_000);

  it("the next clnrm run removes them", async () => {
    const pid = await killedDuringStep();
    const r = await clnrm(["run", fixture("quick.clnrm.toml")]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(leftBy(pid)).toEqual([]);
    expect(leftBy(r.pid)).toEqual([]);
  }, 90_000);
});

describe("concurrent runs and gc", () => {
  it("two runs at once keep their containers through a gc, and both pass", async () => {
    const a = start(["run", "--verbose", fixture("concurrent.clnrm.toml")]);
    const b = start(["run", "--verbose", fixture("concurrent.clnrm.toml")]);
    await until("both runs in their step", () => a.output().includes("step sleeps") && b.output().includes("step sleeps"));
    const before = [...leftBy(a.pid), ...leftBy(b.pid)].sort();
    expect(before.length).toBe(6); // two containers and a network per run
    const gc = await clnrm(["gc"]);
    expect(gc.code, gc.stderr).toBe(0);
    expect([...leftBy(a.pid), ...leftBy(b.pid)].sort()).toEqual(before);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stdout).toBe(0);
    expect(rb.code, rb.stdout).toBe(0);
    expect(ra.stdout).toMatch(/✓ step still there/);
    expect(rb.stdout).toMatch(/✓ step still there/);
    expect([...leftBy(a.pid), ...leftBy(b.pid)]).toEqual([]);
  }, 120_000);
});

describe("a failing service start tears down the rest of the run", () => {
  const cases: [string, string, RegExp][] = [
    ["a container that exits", "failing-container.clnrm.toml", /service 'broken': container exited with code 3 before it was ready; last log lines: fatal: config missing/],
    ["a plugin that throws in start", "plugin-throws.clnrm.toml", /service 'broken' \(throws_in_start\) failed to start: boom: the fake database refused to start/],
    ["a plugin that hangs past its startup timeout", "plugin-hangs.clnrm.toml", /service 'broken' \(hangs_in_start\) did not start within 3 s/],
  ];
  it.each(cases)("%s", async (_name, file, reason) => {
    const r = await clnrm(["run", "--reporter", "json", fixture(file)]);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      results: { status: string; error?: { message: string; service?: string }; services: { name: string; status: string }[]; steps: unknown[] }[];
    };
    const [result] = report.results;
    expect(result!.status).toBe("error");
    expect(result!.error?.service).toBe("broken");
    expect(result!.error?.message).toMatch(reason);
    expect(result!.error?.message.split("\n")).toHaveLength(1);
    expect(Object.fromEntries(result!.services.map((s) => [s.name, s.status]))).toEqual({ healthy: "running", broken: "failed" });
    expect(result!.steps).toEqual([]);
    // The healthy service, the broken one's container and the network: all gone.
    expect(leftBy(r.pid)).toEqual([]);
  }, 90_000);
});

describe("bad environment", () => {
  it("an unreachable Docker daemon: one line, how to start it, DOCKER_HOST, exit 2", async () => {
    const r = await clnrm(["run", fixture("quick.clnrm.toml")], { DOCKER_HOST: "unix:///nonexistent.sock" });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach the Docker engine at unix:\/\/\/nonexistent\.sock \(start it .*systemctl start docker.* or set DOCKER_HOST\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("bad input is reported before the engine: a typo in a file gives its position, even with no engine", async () => {
    // In the fixtures directory: plugins resolve from the test file's project.
    const r = await clnrm(["run", fixture("typo.clnrm.toml")], { DOCKER_HOST: "unix:///nonexistent.sock" });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/typo\.clnrm\.toml:3:1: .*imgae.*did you mean 'image'/);
    expect(r.stderr).not.toMatch(/Docker engine/);
  });

  it("a missing image: one line naming it, exit 2, not retried (the test errors; other files of the run still run)", async () => {
    const r = await clnrm(["run", "--jobs", "1", fixture("missing-image.clnrm.toml"), fixture("quick.clnrm.toml")]);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/retrying start/);
    expect(r.stdout).toMatch(/1 passed, 1 failed/);
    const failures = r.stdout.split("\n").filter((l) => l.includes("✗ service app failed"));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/image 'clnrm-test\/does-not-exist:0\.0\.1' not found locally and could not be pulled.*\(build it, or check the name\)$/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect(leftBy(r.pid)).toEqual([]);
  });
});
