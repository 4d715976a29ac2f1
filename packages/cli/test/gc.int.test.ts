// `clnrm gc` (issue 12, "Leaks"): it finishes what a run could not (an engine that went away mid-run,
// a network a foreign endpoint still holds), and asks before it touches live runs. Counted by label.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gcCommand } from "../src/commands/gc.js";
import { clnrm, start } from "./helpers.js";

const BUSYBOX = "clnrm-test/busybox:latest";
const dir = mkdtempSync(join(tmpdir(), "clnrm-gc-"));
/**
 * A second Docker engine in its own network namespace, which this test may stop and start again
 * (the machine's engine is shared with other tests). Needs root, ip and nsenter.
 */
class SecondEngine {
  readonly root = mkdtempSync(join(tmpdir(), "clnrm-engine-"));
  readonly ns = `clnrm-gc-${randomBytes(3).toString("hex")}`;
  readonly host = `unix://${this.root}/docker.sock`;
  #proc: ChildProcess | undefined;

  static available(): boolean {
    try {
      return process.getuid?.() === 0 && !!execFileSync("sh", ["-c", "command -v dockerd ip nsenter"], { encoding: "utf8" });
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    mkdirSync(join(this.root, "data"), { recursive: true });
    if (!execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).includes(this.ns)) execFileSync("ip", ["netns", "add", this.ns]);
    const args = [`--net=/var/run/netns/${this.ns}`, "dockerd", "--data-root", join(this.root, "data"), "--exec-root", join(this.root, "exec"), "--pidfile", join(this.root, "pid"), "-H", this.host];
    this.#proc = spawn("nsenter", args, { stdio: "ignore" });
    const end = Date.now() + 30_000;
    while (!this.#answers()) {
      if (Date.now() > end) throw new Error("second engine did not start");
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #answers(): boolean {
    try {
      execFileSync("docker", ["-H", this.host, "version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  }

  docker(args: string[]): string[] {
    return execFileSync("docker", ["-H", this.host, ...args], { encoding: "utf8" }).split("\n").filter(Boolean);
  }

  /** As `systemctl stop docker` does: SIGTERM, and wait until it is gone. */
  async stop(): Promise<void> {
    const p = this.#proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.on("exit", r));
    p.kill("SIGTERM");
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    execFileSync("ip", ["netns", "del", this.ns]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

// Everything here runs against a second engine of its own: `gc --all` on the machine's engine would
// remove other tests' live runs.
const engine = new SecondEngine();
const env = { DOCKER_HOST: engine.host };
const docker = (args: string[]) => engine.docker(args);
/** docker, ignoring failure (cleanup of what may be gone). */
const quiet = (args: string[]) => {
  try {
    execFileSync("docker", ["-H", engine.host, ...args], { stdio: "ignore" });
  } catch {}
};
const labelled = (run: string, kind: "ps" | "network" | "volume") =>
  kind === "ps"
    ? docker(["ps", "-aq", "--filter", `label=clnrm.run=${run}`])
    : docker([kind, "ls", "-q", "--filter", `label=clnrm.run=${run}`]);
const labels = (run: string, pid: number) =>
  ["clnrm.managed=true", `clnrm.run=${run}`, `clnrm.pid=${pid}`, `clnrm.host=${execFileSync("hostname", { encoding: "utf8" }).trim()}`].flatMap((l) => [
    "--label",
    l,
  ]);

/** A process that stays alive: its pid makes a run "live". */
function liveOwner(): ChildProcess {
  return spawn("sleep", ["600"], { stdio: "ignore" });
}

beforeAll(async () => {
  if (!SecondEngine.available()) return;
  await engine.start();
  execFileSync("sh", ["-c", `docker save ${BUSYBOX} | docker -H ${engine.host} load`], { stdio: "ignore" });
  process.env.DOCKER_HOST = engine.host; // for gcCommand in this process (before its engine client exists)
}, 60_000);

afterAll(async () => {
  if (SecondEngine.available()) await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!SecondEngine.available())("clnrm gc --all and live runs", () => {
  it("refuses without a terminal unless --yes, in one line, touching nothing; --yes removes them", async () => {
    const owner = liveOwner();
    const run = `gc-live-${randomBytes(3).toString("hex")}`;
    try {
      docker(["network", "create", ...labels(run, owner.pid!), `clnrm-${run}`]);
      docker(["create", ...labels(run, owner.pid!), "--network", `clnrm-${run}`, "--name", `clnrm-${run}-svc`, BUSYBOX, "sleep", "60"]);

      const plain = await clnrm(["gc"], { env });
      expect(plain.code).toBe(0);
      expect(labelled(run, "ps")).toHaveLength(1); // live: a plain gc leaves it

      const refused = await clnrm(["gc", "--all"], { env }); // stdin is not a terminal here
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim().split("\n")).toHaveLength(1);
      expect(refused.stderr).toMatch(
        new RegExp(`^error: clnrm gc --all would remove the resources of \\d+ live run\\(s\\) \\(.*run ${run}, pid ${owner.pid}: 1 container\\(s\\), 1 network\\(s\\).*pass --yes`),
      );
      expect(refused.stdout).toBe("");
      expect(labelled(run, "ps")).toHaveLength(1);
      expect(labelled(run, "network")).toHaveLength(1);

      const yes = await clnrm(["gc", "--all", "--yes"], { env });
      expect(yes.code).toBe(0);
      expect(yes.stdout).toMatch(/^removed [1-9]\d* container\(s\), [1-9]\d* network\(s\), \d+ volume\(s\)\n$/);
      expect(labelled(run, "ps")).toEqual([]);
      expect(labelled(run, "network")).toEqual([]);
    } finally {
      owner.kill();
      quiet(["rm", "-f", `clnrm-${run}-svc`]);
      quiet(["network", "rm", `clnrm-${run}`]);
    }
  });

  it("on a terminal it asks: no keeps everything, yes removes", async () => {
    const owner = liveOwner();
    const run = `gc-ask-${randomBytes(3).toString("hex")}`;
    const tty = (answer: string) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true });
      const stdout = Object.assign(new PassThrough(), { isTTY: true });
      const stderr = new PassThrough();
      let text = "";
      stdout.on("data", (d: Buffer) => {
        text += d.toString();
        if (text.includes("[y/N]")) stdin.write(`${answer}\n`);
      });
      return { io: { stdin, stdout, stderr }, text: () => text };
    };
    try {
      docker(["volume", "create", ...labels(run, owner.pid!), `clnrm-${run}-data`]);
      const no = tty("n");
      expect(await gcCommand({ all: true }, no.io)).toBe(1);
      expect(no.text()).toMatch(new RegExp(`clnrm gc --all will remove the resources of \\d+ live run\\(s\\) \\(.*run ${run}, pid ${owner.pid}: 1 volume\\(s\\).*Remove them\\? \\[y/N\\] nothing removed\\n$`));
      expect(labelled(run, "volume")).toHaveLength(1);

      const yes = tty("y");
      expect(await gcCommand({ all: true }, yes.io)).toBe(0);
      expect(yes.text()).toMatch(/removed \d+ container\(s\), \d+ network\(s\), [1-9]\d* volume\(s\)\n$/);
      expect(labelled(run, "volume")).toEqual([]);
    } finally {
      owner.kill();
      quiet(["volume", "rm", "-f", `clnrm-${run}-data`]);
    }
  });
});

describe.skipIf(!SecondEngine.available())("clnrm gc finishes the job", () => {
  it("removes a dead run's network that a container still holds an endpoint on (force-disconnects it)", async () => {
    const dead = spawn("true");
    await new Promise((r) => dead.on("exit", r));
    const run = `gc-ep-${randomBytes(3).toString("hex")}`;
    docker(["network", "create", ...labels(run, dead.pid!), `clnrm-${run}`]);
    const stray = docker(["run", "-d", "--network", `clnrm-${run}`, BUSYBOX, "sleep", "60"])[0]!;
    try {
      expect(() => execFileSync("docker", ["-H", engine.host, "network", "rm", `clnrm-${run}`], { stdio: "pipe" })).toThrow(/active endpoints/);
      const gc = await clnrm(["gc"], { env });
      expect(gc.code).toBe(0);
      expect(gc.stdout).toMatch(/, [1-9]\d* network\(s\)/);
      expect(labelled(run, "network")).toEqual([]);
    } finally {
      quiet(["rm", "-f", stray]);
    }
  });
});

describe.skipIf(!SecondEngine.available())("the engine goes away during a run", () => {
  it("the step says so in one line, and clnrm gc removes what the run left once the engine is back", async () => {
    {
      const file = join(dir, "gone.clnrm.toml");
      writeFileSync(
        file,
        [
          '[meta]\nname = "engine goes away"\n',
          `[services.app]\ntype = "generic_container"\nimage = "${BUSYBOX}"\ncommand = ["sleep", "3600"]\n`,
          `[services.peer]\ntype = "generic_container"\nimage = "${BUSYBOX}"\ncommand = ["sleep", "3600"]\n`,
          '[[steps]]\nname = "long step"\nservice = "app"\ncommand = ["sh", "-c", "echo started; sleep 60"]\n',
        ].join("\n"),
      );
      const run = start(["run", file], { env });
      const t0 = Date.now();
      while (!run.output().includes("ready") || !/service peer ready/.test(run.output()) || !/service app ready/.test(run.output())) {
        if (Date.now() - t0 > 60_000) throw new Error(`services did not start: ${run.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1_000)); // the step is running
      await engine.stop();
      const done = await run.done;
      expect(done.code).toBe(2); // the environment failed, not the test
      const said = `${done.stdout}${done.stderr}`.split("\n").filter((l) => l.includes("the Docker engine went away"));
      expect(said.length).toBeGreaterThan(0);
      expect(said[0]).toMatch(/the Docker engine went away during the run: connect (ENOENT|ECONNREFUSED) [^;]*docker\.sock; run `clnrm gc` when it is back$/);
      expect(done.stdout).not.toMatch(/got (137|125)/);
      expect(done.stderr).not.toMatch(/internal error|\n\s+at /);

      await engine.start();
      const runId = /run ([0-9a-f]+)\)/.exec(done.stdout)?.[1];
      expect(runId).toBeDefined();
      expect(engine.docker(["network", "ls", "-q", "--filter", `label=clnrm.run=${runId}`])).toHaveLength(1); // left behind
      const gc = await clnrm(["gc"], { env });
      expect(gc.code).toBe(0);
      expect(gc.stdout).toMatch(/^removed 2 container\(s\), 1 network\(s\)/);
      expect(engine.docker(["ps", "-aq", "--filter", "label=clnrm.managed=true"])).toEqual([]);
      expect(engine.docker(["network", "ls", "-q", "--filter", "label=clnrm.managed=true"])).toEqual([]);
    }
  }, 180_000);
});
