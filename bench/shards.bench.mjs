// The generated 40-file suite (as in packages/cli/test/load.int.test.ts) as 1, 2 and 4 shards run at
// once on this machine, each shard its own process (`clnrm run --shard i/n`), against one process
// with --jobs 4. The total concurrency is the same everywhere (shards × --jobs = 4), so the ratio is
// what splitting into processes costs: the shards' total wall time (start of the first to end of the
// last) over the single process's. The shards are balanced by the durations the warm-up recorded.
// Rounds after one warm-up, the order rotating; prints min/median/max and the paired ratios.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { clnrmBin, env, leftovers, machine, pairedRatios, root, table } from "./lib.mjs";
import { writeSuite } from "./suite-files.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const files = Number(process.env.BENCH_FILES ?? 40);
// Under the repository, so that the suite's plugins resolve from its node_modules.
const dir = mkdtempSync(join(root, "bench/.tmp-shards-"));

function clnrm(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [clnrmBin, ...args], { env, cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`clnrm ${args.join(" ")} exited ${code}: ${stderr}`))));
  });
}

try {
  const suite = writeSuite(join(dir, "suite"), files);
  const timings = join(dir, "timings.json");
  const report = (i, n) => join(dir, `shard-${i}of${n}.json`);

  const single = async () => {
    const t0 = performance.now();
    await clnrm(["run", "--jobs", "4", "--record-timings", timings, "--reporter", "json", "--output", report(1, 0), suite]);
    const ms = performance.now() - t0;
    const r = JSON.parse(readFileSync(report(1, 0), "utf8"));
    if (r.passed !== files) throw new Error(`--jobs 4: ${r.passed}/${files} passed`);
    return ms;
  };
  const sharded = (n) => async () => {
    const t0 = performance.now();
    const jobs = String(4 / n);
    await Promise.all(
      Array.from({ length: n }, (_, k) =>
        clnrm(["run", "--shard", `${k + 1}/${n}`, "--timings", timings, "--jobs", jobs, "--reporter", "json", "--output", report(k + 1, n), suite]),
      ),
    );
    const ms = performance.now() - t0;
    const ran = Array.from({ length: n }, (_, k) => JSON.parse(readFileSync(report(k + 1, n), "utf8")).results.map((x) => x.file)).flat();
    if (ran.length !== files || new Set(ran).size !== files) throw new Error(`${n} shards ran ${ran.length} files (${new Set(ran).size} distinct), not ${files}`);
    return ms;
  };

  console.log(`shards benchmark — ${machine()} — ${files} files, ${rounds} rounds, interleaved (order rotating), after one warm-up; shards × --jobs = 4`);
  const jobs = { "1 process, --jobs 4": single, "1 shard (--shard 1/1), --jobs 4": sharded(1), "2 shards at once, --jobs 2 each": sharded(2), "4 shards at once, --jobs 1 each": sharded(4) };
  // Interleaved as lib's interleaveAsync, but the order rotates every round: on a shared machine no
  // job always runs first (or right after the heaviest one).
  const names = Object.keys(jobs);
  for (const name of names) await jobs[name]();
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      samples[name].push(await jobs[name]());
    }
  }
  console.log(table(samples, "1 process, --jobs 4"));
  for (const name of Object.keys(samples).slice(1)) {
    const r = pairedRatios(samples, name, "1 process, --jobs 4");
    console.log(`  ${name} / 1 process: paired ratio min ×${r.min.toFixed(2)} median ×${r.median.toFixed(2)} max ×${r.max.toFixed(2)}`);
  }
  console.log(`  containers left: ${leftovers()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
