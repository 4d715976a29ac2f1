// The quickstart file three ways, interleaved: `clnrm run`, the raw docker CLI doing the same job
// (run -d, exec, rm -f), and a hand-written testcontainers script. Target: clnrm ≤ 1.3× raw CLI,
// and no slower than the testcontainers script.
import { join } from "node:path";
import { quickstartFloor } from "./engine-floor.mjs";
import { clnrmBin, interleaveAsync, leftovers, machine, pairedRatios, root, stats, table, timed } from "./lib.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const quickstart = join(root, "examples/quickstart.clnrm.toml");
const tcScript = join(root, "bench/testcontainers-quickstart.mjs");

const jobs = {
  "clnrm run quickstart": async () => timed(process.execPath, [clnrmBin, "run", quickstart]).ms,
  "raw docker CLI": async () => {
    const t0 = performance.now();
    const id = timed("docker", ["run", "-d", "--label", "clnrm.bench=1", "alpine:latest", "sleep", "3600"]).stdout.trim();
    const out = timed("docker", ["exec", id, "echo", "hello"]).stdout;
    if (out !== "hello\n") throw new Error(`unexpected exec output ${out}`);
    timed("docker", ["rm", "-f", id]);
    return performance.now() - t0;
  },
  "testcontainers script": async () => timed(process.execPath, [tcScript]).ms,
  // The floor: the same Engine API calls from one running process, no framework (engine-floor.mjs).
  "floor (Engine API, in process)": () => quickstartFloor(),
};

console.log(`quickstart benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
const samples = await interleaveAsync(jobs, rounds);
console.log(table(samples, "raw docker CLI"));
const c = stats(samples["clnrm run quickstart"]).median;
const raw = stats(samples["raw docker CLI"]).median;
const tc = stats(samples["testcontainers script"]).median;
console.log(`  clnrm/raw = ${(c / raw).toFixed(2)} (target ≤ 1.30)   clnrm/testcontainers = ${(c / tc).toFixed(2)} (target ≤ 1.00)`);
const paired = pairedRatios(samples, "clnrm run quickstart", "raw docker CLI");
const pairedTc = pairedRatios(samples, "clnrm run quickstart", "testcontainers script");
console.log(`  per-round clnrm/raw: min ${paired.min.toFixed(2)}  median ${paired.median.toFixed(2)}  max ${paired.max.toFixed(2)}`);
console.log(`  per-round clnrm/testcontainers: min ${pairedTc.min.toFixed(2)}  median ${pairedTc.median.toFixed(2)}  max ${pairedTc.max.toFixed(2)}`);
const floor = stats(samples["floor (Engine API, in process)"]).median;
for (const name of Object.keys(samples)) console.log(`  ${name.padEnd(34)} ×${(stats(samples[name]).median / floor).toFixed(2)} of the floor`);
const pf = pairedRatios(samples, "clnrm run quickstart", "floor (Engine API, in process)");
console.log(`  per-round clnrm/floor: min ${pf.min.toFixed(2)}  median ${pf.median.toFixed(2)}  max ${pf.max.toFixed(2)}`);
console.log(`  containers left: ${leftovers()}`);
process.exit(0);
