// Remote engines (issue 17), end to end against a second, real dockerd on this machine: it runs in
// its own network namespace (tools/test-engine/start.sh) and is reached like another host, over
// TCP with TLS (DOCKER_HOST=tcp://ADDR:2376, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and over SSH
// (DOCKER_HOST=ssh://root@ADDR, sshd in the namespace). Runs the clnrm CLI (packages/cli/dist) as a
// user would: a generic_container with a step in it and a host step reaching its published port on
// the engine's host; a bind mount refused; `clnrm gc` per engine; then nothing left on either.
// Needs root (ip netns) and the CLI built. Phases are printed with their times.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, docker } from "./helpers.js";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "../../..");
const bin = join(repo, "packages/cli/dist/bin.js");
const tools = join(repo, "tools/test-engine");
// Unique per run, so that two checkouts testing at once don't collide.
const slot = 20 + (process.pid % 200);
const NAME = `clnrm-rt${slot}`;
const SUBNET = `10.77.${slot}`;
const ADDR = `${SUBNET}.2`;
const dir = `/var/lib/clnrm-test-engine-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "clnrm-remote-"));
const t0 = performance.now();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function phase(what: string): void {
  console.log(`[remote +${((performance.now() - t0) / 1000).toFixed(1)}s] ${what}`);
}

let engine: Record<string, string> = {};
/** The second engine's own socket (for checking what is left there, bypassing TLS and ssh). */
const remote = (...args: string[]) => run("docker", ["-H", engine.ENGINE_LOCAL!, ...args]).then((r) => r.stdout.trim());

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs the CLI with `env` over a clean environment (no host override, no engine of the caller's). */
function clnrm(args: string[], env: Record<string, string>): Promise<Result> {
  const base = { ...process.env };
  for (const k of ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "TESTCONTAINERS_HOST_OVERRIDE", "CLNRM_SSH_COMMAND"]) delete base[k];
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...base, NO_COLOR: "1", TESTCONTAINERS_RYUK_DISABLED: "true", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr, pid: child.pid! })));
}

const tls = () => ({ DOCKER_HOST: engine.DOCKER_HOST!, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: engine.DOCKER_CERT_PATH! });
const ssh = () => ({ DOCKER_HOST: engine.SSH_DOCKER_HOST!, CLNRM_SSH_COMMAND: `ssh -F ${engine.SSH_CONFIG}` });

/** What clnrm labelled on the second engine, and on the main one for the given CLI process. */
async function leftovers(pid: number): Promise<{ remote: string[]; local: string[] }> {
  const f = ["--filter", "label=clnrm.managed=true"];
  const remoteAll = [
    await remote("ps", "-aq", ...f),
    await remote("network", "ls", "-q", ...f),
    await remote("volume", "ls", "-q", ...f),
  ].filter(Boolean);
  const p = ["--filter", `label=clnrm.pid=${pid}`];
  const local = [await docker("ps", "-aq", ...p), await docker("network", "ls", "-q", ...p), await docker("volume", "ls", "-q", ...p)].filter(Boolean);
  return { remote: remoteAll, local };
}

const suite = `[meta]
name = "remote engine"

[services.web]
type = "generic_container"
image = "${BUSYBOX}"
command = "mkdir -p /www && echo it-works > /www/index.html && exec httpd -f -p 8080 -h /www"
ports = ["8080"]
health_check = { type = "tcp", port = 8080 }

[[steps]]
name = "a step in the container"
service = "web"
command = ["sh", "-c", "wget -qO- http://127.0.0.1:8080/index.html"]
expected_output_regex = "it-works"

[[steps]]
name = "the host reaches the published port on the engine's host"
command = ["node", "-e", "const u = '\${services.web.url}'; fetch(u + '/index.html').then(r => r.text()).then(t => process.stdout.write(u + ' ' + t))"]
expected_output_regex = "^http://${ADDR.replaceAll(".", "\\\\.")}:\\\\d+ it-works"
`;

const bindSuite = `[meta]
name = "remote bind"

[services.web]
type = "generic_container"
image = "${BUSYBOX}"
volumes = ["./data:/data"]

[[steps]]
name = "never runs"
service = "web"
command = ["true"]
`;

beforeAll(async () => {
  expect(existsSync(bin), `build the CLI first: pnpm --filter @clnrm/cli build (${bin})`).toBe(true);
  writeFileSync(join(work, "remote.clnrm.toml"), suite);
  writeFileSync(join(work, "bind.clnrm.toml"), bindSuite);
  mkdirSync(join(work, "data"));
  // Engines a killed earlier run of this file left (its pid is gone): torn down first.
  for (const stale of readdirSync("/var/lib").filter((d) => /^clnrm-test-engine-\d+$/.test(d))) {
    const pid = Number(stale.slice("clnrm-test-engine-".length));
    if (pid !== process.pid && !alive(pid)) await run(join(tools, "stop.sh"), [join("/var/lib", stale)]).catch(() => {});
  }
  phase(`starting the second engine (${NAME}, ${ADDR})`);
  try {
    const { stdout } = await run(join(tools, "start.sh"), [dir, BUSYBOX], { env: { ...process.env, NAME, SUBNET } });
    engine = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`tools/test-engine/start.sh failed: ${e.stderr ?? err}`);
  }
  phase(`second engine up (ssh: ${engine.SSH_DOCKER_HOST || "not available"})`);
}, 120_000);

afterAll(async () => {
  phase("stopping the second engine");
  await run(join(tools, "stop.sh"), [dir]).catch((err) => console.error(`stop.sh: ${err}`));
  rmSync(work, { recursive: true, force: true });
  phase("done");
}, 60_000);

describe("a remote engine over TCP with TLS", () => {
  it("runs a file: a step in the container and a host step on the engine's host's published port; nothing left on either engine", async () => {
    phase("tcp+tls: clnrm run");
    const r = await clnrm(["run", "remote.clnrm.toml"], tls());
    phase(`tcp+tls: exit ${r.code}`);
    expect(r.stderr + r.stdout).not.toMatch(/localhost/);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await leftovers(r.pid)).toEqual({ remote: [], local: [] });
  }, 60_000);

  it("refuses a bind mount of a local path in one line, exit 2, and creates nothing", async () => {
    phase("tcp+tls: bind mount refused");
    const r = await clnrm(["run", "bind.clnrm.toml"], tls());
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/cannot bind-mount local path '.*\/data' on the remote Docker engine at tcp:\/\/10\.77\.\d+\.2:2376.*\(use a volume/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await leftovers(r.pid)).toEqual({ remote: [], local: [] });
  }, 60_000);

  it("a missing certificate directory is one line naming it, exit 2", async () => {
    const r = await clnrm(["run", "remote.clnrm.toml"], { ...tls(), DOCKER_CERT_PATH: join(work, "no-certs") });
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toMatch(/DOCKER_TLS_VERIFY is set but .*no-certs\/ca\.pem cannot be read .*DOCKER_CERT_PATH/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it("an engine that does not answer there is one line saying to check that host, exit 2", async () => {
    const r = await clnrm(["run", "remote.clnrm.toml"], { ...tls(), DOCKER_HOST: `tcp://${ADDR}:2399` });
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`cannot reach the Docker engine at tcp://${ADDR.replaceAll(".", "\\.")}:2399 \\(check that the engine on ${ADDR.replaceAll(".", "\\.")} is up`));
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);

  it("clnrm gc sweeps a dead run's leftovers on the engine DOCKER_HOST names, not on the other", async () => {
    phase("tcp+tls: clnrm gc per engine");
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.on("exit", r));
    const run = `t-remote-${process.pid}`;
    const labels = ["clnrm.managed=true", `clnrm.run=${run}`, `clnrm.pid=${dead.pid}`, `clnrm.host=${hostname()}`].flatMap((l) => ["--label", l]);
    const there = await remote("create", ...labels, "--name", `clnrm-${run}-there`, BUSYBOX, "true");
    const here = await docker("create", ...labels, "--name", `clnrm-${run}-here`, BUSYBOX, "true");
    try {
      // DOCKER_TLS_VERIFY as the docker CLI takes it: any non-empty value (testcontainers alone wants "1").
      const r = await clnrm(["gc"], { ...tls(), DOCKER_TLS_VERIFY: "yes" });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/removed 1 container/); // the second engine had only this one
      expect(await remote("ps", "-aq", "--filter", `label=clnrm.run=${run}`)).toBe("");
      expect(await docker("ps", "-aq", "--no-trunc", "--filter", `label=clnrm.run=${run}`)).toBe(here);
    } finally {
      await docker("rm", "-f", here);
      await remote("rm", "-f", there).catch(() => {});
    }
  }, 60_000);
});

describe("a remote engine over SSH", () => {
  it("runs the same file through ssh://root@ADDR; nothing left on either engine", async (ctx) => {
    if (!engine.SSH_DOCKER_HOST) {
      console.log("[remote] openssh-server is not installed (apt-get install openssh-server): SSH not tested");
      ctx.skip();
    }
    phase("ssh: clnrm run");
    const r = await clnrm(["run", "remote.clnrm.toml"], ssh());
    phase(`ssh: exit ${r.code}`);
    expect(r.stderr + r.stdout).not.toMatch(/localhost/);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await leftovers(r.pid)).toEqual({ remote: [], local: [] });
    // clnrm gc through the tunnel too: the second engine has nothing of clnrm's left, so nothing to remove.
    const gc = await clnrm(["gc"], ssh());
    expect(gc.code, gc.stderr + gc.stdout).toBe(0);
    expect(gc.stdout).toMatch(/removed 0 container/);
    // The tunnels went with their processes.
    const { stdout } = await run("ps", ["-eo", "args"]);
    expect(stdout).not.toMatch(new RegExp(`ssh .*-L \\S+:/var/run/docker.sock .*${ADDR.replaceAll(".", "\\.")}`));
  }, 60_000);

  it("an ssh that can't log in is one line with what to check, exit 2", async (ctx) => {
    if (!engine.SSH_DOCKER_HOST) ctx.skip();
    const r = await clnrm(["run", "remote.clnrm.toml"], { ...ssh(), DOCKER_HOST: `ssh://nosuchuser@${ADDR}` });
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the Docker engine at ssh:\/\/nosuchuser@10\.77\.\d+\.2: ssh: .*(Permission denied|denied).*CLNRM_SSH_COMMAND/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
