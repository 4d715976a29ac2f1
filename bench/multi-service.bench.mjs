// The spec's three-service file (fixtures/multi-service: a SurrealDB database, an API with DB_URL, a
// frontend whose step runs `npm run test:e2e` through the API) four ways, interleaved: `clnrm run`,
// the raw docker CLI polling readiness every 50 ms (fixtures/multi-service/raw-cli.sh), docker
// compose (Debian's docker-compose 1.29: up -d, the step by exec retried every 50 ms, down -t 0),
// and the floor (engine-floor.mjs: one running process making the Engine API calls, no framework).
// Targets: clnrm ≤ 1.1× the raw CLI and ≤ 0.8× compose.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { multiServiceFloor } from "./engine-floor.mjs";
import { clnrmBin, env, interleaveAsync, leftovers, machine, pairedRatios, root, stats, table, timed } from "./lib.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const dir = join(root, "bench/fixtures/multi-service");
const file = join(dir, "multi-service.clnrm.toml");

const hasCompose = spawnSync("docker-compose", ["version"], { encoding: "utf8" }).status === 0;
if (!hasCompose) console.log("  docker-compose not found: run `bash bench/setup.sh` (apt-get install docker-compose); compose is left out");

function compose() {
  const project = `clnrmbench${process.pid}${Date.now() % 100000}`;
  const args = ["-p", project, "-f", join(dir, "docker-compose.yml")];
  const t0 = performance.now();
  try {
    timed("docker-compose", [...args, "up", "-d", "--no-color", "--quiet-pull"], { cwd: dir });
    for (let i = 0; ; i++) {
      const r = spawnSync("docker-compose", [...args, "exec", "-T", "frontend", "npm", "run", "test:e2e"], { cwd: dir, env, encoding: "utf8" });
      if (r.status === 0 && r.stdout.includes("e2e ok")) break;
      if (i > 200) throw new Error(`compose e2e never passed: ${r.stderr}`);
      spawnSync("sleep", ["0.05"]);
    }
  } finally {
    timed("docker-compose", [...args, "down", "-t", "0", "--remove-orphans"], { cwd: dir });
  }
  return performance.now() - t0;
}

const jobs = {
  "clnrm run": async () => timed(process.execPath, [clnrmBin, "run", file]).ms,
  "raw docker CLI (50 ms polls)": async () => timed("bash", [join(dir, "raw-cli.sh")]).ms,
  ...(hasCompose ? { "docker compose": async () => compose() } : {}),
  "floor (Engine API, in process)": () => multiServiceFloor(join(dir, "frontend")),
};

console.log(`multi-service benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
const samples = await interleaveAsync(jobs, rounds);
console.log(table(samples, "raw docker CLI (50 ms polls)"));
const floor = stats(samples["floor (Engine API, in process)"]).median;
for (const name of Object.keys(samples)) console.log(`  ${name.padEnd(34)} ×${(stats(samples[name]).median / floor).toFixed(2)} of the floor`);
const line = (a, b, target) => {
  const p = pairedRatios(samples, a, b);
  console.log(`  per-round ${a} / ${b}: min ${p.min.toFixed(2)}  median ${p.median.toFixed(2)}  max ${p.max.toFixed(2)}${target ? `  (target ≤ ${target})` : ""}`);
};
line("clnrm run", "raw docker CLI (50 ms polls)", "1.10");
if (hasCompose) line("clnrm run", "docker compose", "0.80");
line("clnrm run", "floor (Engine API, in process)");
const c = stats(samples["clnrm run"]);
console.log(`  clnrm max/min over ${c.n} runs: ${(c.max / c.min).toFixed(2)} (target ≤ 1.30)`);
console.log(`  containers left: ${leftovers()} clnrm-managed on the machine (other jobs' included), ${spawnSync("docker", ["ps", "-aq", "--filter", "label=clnrm.bench=1"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length} baseline`);
process.exit(0);
