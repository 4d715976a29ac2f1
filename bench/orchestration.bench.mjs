// Parallel start and teardown. One run measures, interleaved:
//  - a file with five independent services (same image) against a one-service file
//    (target: five-service wall time ≤ 1.5× the one-service time);
//  - the teardown of five services, as clnrm reports it in --reporter json (target: < 1 s).
import { join } from "node:path";
import { clnrmBin, interleave, leftovers, machine, root, stats, table, timed } from "./lib.mjs";

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
const samples = interleave({ "one service": () => run("one service", "one-service.clnrm.toml"), "five services": () => run("five services", "five-services.clnrm.toml") }, rounds);
console.log(table(samples, "one service"));
const ratio = stats(samples["five services"]).median / stats(samples["one service"]).median;
console.log(`  five/one wall time = ${ratio.toFixed(2)} (target ≤ 1.50)`);
for (const [name, xs] of Object.entries(teardowns)) {
  const s = stats(xs.slice(1));
  console.log(`  teardown, ${name.padEnd(14)} min ${s.min.toFixed(0)} ms  median ${s.median.toFixed(0)} ms  max ${s.max.toFixed(0)} ms${name === "five services" ? "  (target < 1000 ms)" : ""}`);
}
console.log(`  containers left: ${leftovers()}`);
