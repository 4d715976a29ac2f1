import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ContainerBackend, NetworkHandle, PluginLogger, RunningContainer, ServiceHandle, StartContext } from "@clnrm/core";
import { DockerBackend } from "@clnrm/docker";
import chaos from "../src/index.js";

export const TOOLS = "clnrm-test/tools:latest";
export const NODE = "clnrm-test/node:24";
export const BUSYBOX = "clnrm-test/busybox:latest";
/** The spec's `my-api:latest`, as a local stand-in: tools (curl) + busybox httpd serving /api on 8080. */
export const MY_API = "my-api:latest";

const MY_API_DOCKERFILE = `FROM ${TOOLS}
COPY --from=${BUSYBOX} /bin/busybox /usr/local/bin/busybox
RUN mkdir -p /www && echo ok > /www/api && echo ok > /www/index.html
LABEL org.clnrm.test-image=true org.clnrm.stand-in=my-api
CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
`;

/** Builds MY_API from the local test images (no registry); the layer cache makes a rebuild instant. */
export function buildMyApi(): void {
  execFileSync("docker", ["build", "-q", "-t", MY_API, "-"], { input: MY_API_DOCKERFILE, stdio: "pipe", timeout: 120_000 });
}

export interface Env {
  backend: ContainerBackend;
  runId: string;
  network: NetworkHandle;
  web: RunningContainer;
  client: RunningContainer;
  /** busybox (has ping). */
  pinger: RunningContainer;
  /** Shares web's netns with NET_ADMIN: reads iptables and qdiscs from outside the engine. */
  inspector: RunningContainer;
  log: PluginLogger & { lines: string[] };
}

export function logger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, progress: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), debug() {} };
}

/** A run network with a busybox httpd ("web", 256 KiB at /big) and a tools client. */
export async function setup(): Promise<Env> {
  const backend = new DockerBackend();
  const runId = `chaos-${randomBytes(4).toString("hex")}`;
  const network = await backend.createNetwork(runId);
  const [web, client, pinger] = await Promise.all([
    backend.run(
      {
        image: BUSYBOX,
        command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && head -c 262144 /dev/zero > /www/big && exec httpd -f -p 8080 -h /www"],
        ports: [{ container: 8080 }],
        health: { kind: "http", port: 8080 },
      },
      { runId, service: "web", network },
    ),
    backend.run({ image: TOOLS, keepAlive: true }, { runId, service: "client", network }),
    backend.run({ image: BUSYBOX, keepAlive: true }, { runId, service: "pinger", network }),
  ]);
  const inspector = await backend.run({ image: TOOLS, keepAlive: true, networkOf: web.id, capAdd: ["NET_ADMIN"] }, { runId, service: "inspector" });
  return { backend, runId, network, web, client, pinger, inspector, log: logger() };
}

export async function teardown(env: Env | undefined): Promise<void> {
  if (!env) return;
  await env.backend.sweep({ runId: env.runId });
  await env.network.remove().catch(() => {});
}

export function leftContainers(runId: string): string {
  return execFileSync("docker", ["ps", "-a", "-q", "--filter", `label=clnrm.run=${runId}`], { encoding: "utf8" }).trim();
}

export async function startChaos(env: Env, raw: Record<string, unknown>, services: Record<string, RunningContainer> = { web: env.web }, definition = chaos) {
  const config = definition.configSchema.parse(raw);
  const plugin = definition.create(config, { service: "chaos", baseDir: process.cwd() });
  const map = new Map<string, ServiceHandle>(Object.entries(services).map(([k, c]) => [k, { service: k, primary: c, containers: [c], outputs: {} }]));
  const ctx: StartContext = {
    service: "chaos",
    runId: env.runId,
    backend: env.backend,
    network: env.network,
    baseDir: process.cwd(),
    signal: new AbortController().signal,
    log: env.log,
    startupTimeoutMs: 60_000,
    dependencies: {},
    services: map,
  };
  const handle = await plugin.start(ctx);
  const stop = () => plugin.stop!(handle, { service: "chaos", runId: env.runId, log: env.log });
  return { plugin, handle, stop };
}

/** curl from the client to web: seconds taken, and curl's exit code. */
export async function curlTime(env: Env, path = "/", maxTime = 10): Promise<{ code: number; seconds: number; out: string }> {
  const r = await env.client.exec(["curl", "-s", "-o", "/dev/null", "--max-time", String(maxTime), "-w", "%{time_total}", `http://${env.web.networkIp}:8080${path}`], {
    timeoutMs: (maxTime + 5) * 1000,
  });
  return { code: r.exitCode, seconds: Number(r.stdout.trim()), out: r.stdout + r.stderr };
}

export async function median(n: number, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(await f());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(n / 2)]!;
}

/** What the inspector sees of our faults in web's netns (empty when clean). */
export async function leftovers(env: Env): Promise<string> {
  const r = await env.inspector.exec(["sh", "-c", "iptables -w -S | grep clnrm-; iptables -w -t nat -S | grep clnrm-; tc qdisc show dev eth0 | grep -E 'netem|tbf'; true"]);
  return r.stdout.trim();
}
