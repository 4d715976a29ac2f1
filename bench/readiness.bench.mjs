// Readiness detection: how long after a service is ready clnrm reports it ready (target ≤ 50 ms).
// A server (node:24) starts listening a random 0.3–2.8 s after its container starts and logs the
// moment it does (epoch ms, the same clock as this process's); clnrm's start (`startServices`, the
// programmatic API: the docker backend's probe wait, then the lifecycle's health check) is timed
// to its `service:ready` event. In process, so that the figure is the polling alone.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { leftovers, machine, root, stats } from "./lib.mjs";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const { startServices } = await import(pathToFileURL(join(root, "packages/cli/dist/api.js")).href);
const dir = mkdtempSync(join(tmpdir(), "clnrm-readiness-"));

const file = (delayMs) => `
[meta]
name = "readiness"

[services.web]
type = "generic_container"
image = "clnrm-test/node:24"
command = ["node", "-e", "setTimeout(() => require('http').createServer((q, r) => r.end('ok')).listen(8080, () => console.log('listening at', Date.now())), ${delayMs})"]
ports = ["8080"]
health_check = { type = "http", port = 8080, path = "/" }

[[steps]]
name = "up"
service = "web"
command = ["true"]
`;

async function once(delayMs) {
  const path = join(dir, `r${delayMs}.clnrm.toml`);
  writeFileSync(path, file(delayMs));
  let readyAt = 0;
  const env = await startServices(path, { onEvent: (e) => e.type === "service:ready" && (readyAt = Date.now()) });
  try {
    const logs = await env.container("web").logs({});
    const m = /listening at (\d+)/.exec(logs);
    if (!m) throw new Error(`no 'listening at' in the log: ${logs}`);
    return readyAt - Number(m[1]);
  } finally {
    await env.stop();
  }
}

// How late a 25 ms timer fires in this process meanwhile: what a loaded machine adds to any poll.
const lag = [];
let ticking = true;
const tick = () => {
  const t = performance.now();
  setTimeout(() => {
    lag.push(performance.now() - t - 25);
    if (ticking) tick();
  }, 25);
};

console.log(`readiness benchmark — ${machine()} — ${rounds} rounds after one warm-up`);
await once(300);
tick();
const late = [];
for (let i = 0; i < rounds; i++) late.push(await once(300 + Math.round(Math.random() * 2_500)));
ticking = false;
rmSync(dir, { recursive: true, force: true });
const s = stats(late);
const l = stats(lag);
console.log(`  ready → reported ready: min ${s.min} ms  median ${s.median} ms  max ${s.max} ms  (target ≤ 50 ms)`);
console.log(`  a 25 ms timer's lateness meanwhile (the machine's load): median ${l.median.toFixed(1)} ms  max ${l.max.toFixed(0)} ms`);
console.log(`  containers left: ${leftovers()}`);
process.exit(0);
