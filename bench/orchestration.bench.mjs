// Parallel start and teardown. One run measures, interleaved:
//  - a file with five independent services (same image) against a one-service file
//    (target: five-service wall time ≤ 1.5× the one-service time);
//  - the teardown of five services, as clnrm reports it in --reporter json (target: < 1 s).
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { clnrmBin, interleaveAsync, leftovers, machine, root, stats, table, timed } from "./lib.mjs";

const exec = promisify(execFile);

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const file = (n) => join(root, "bench/fixtures", n);
const teardowns = { "one service": [], "five services": [] };

function run(name, f) {
  const { ms, stdout } = timed(process.execPath, [clnrmBin, "run", "--reporter", "json", file(f)]);
  const report = JSON.parse(stdout);
  teardowns[name].push(report.results[0].teardownMs);
  return ms;
}

console.log(`orchestration benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
// The engine's own parallelism, as a baseline: the raw docker CLI doing the same jobs (run -d, exec, rm -f),
// one container, and five at once.
async function rawDocker(n) {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const id = (await exec("docker", ["run", "-d", "--label", "clnrm.bench=1", "alpine:latest", "sleep", "3600"])).stdout.trim();
      await exec("docker", ["exec", id, "echo", "ok"]);
      await exec("docker", ["rm", "-f", id]);
    }),
  );
  return performance.now() - t0;
}
const samples = await interleaveAsync(
  {
    "one service": async () => run("one service", "one-service.clnrm.toml"),
    "five services": async () => run("five services", "five-services.clnrm.toml"),
    "raw docker CLI, one": () => rawDocker(1),
    "raw docker CLI, five at once": () => rawDocker(5),
  },
  rounds,
);
console.log(table(samples, "one service"));
const med = (k) => stats(samples[k]).median;
console.log(`  clnrm five/one wall time = ${(med("five services") / med("one service")).toFixed(2)} (target ≤ 1.50)`);
console.log(`  raw docker CLI five/one  = ${(med("raw docker CLI, five at once") / med("raw docker CLI, one")).toFixed(2)} (what this engine allows)`);
console.log(`  clnrm five / raw five    = ${(med("five services") / med("raw docker CLI, five at once")).toFixed(2)}`);
for (const [name, xs] of Object.entries(teardowns)) {
  const s = stats(xs.slice(1));
  console.log(`  teardown, ${name.padEnd(14)} min ${s.min.toFixed(0)} ms  median ${s.median.toFixed(0)} ms  max ${s.max.toFixed(0)} ms${name === "five services" ? "  (target < 1000 ms)" : ""}`);
}
console.log(`  containers left: ${leftovers()}`);
