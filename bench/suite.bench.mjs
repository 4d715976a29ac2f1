// The generated 40-file suite (as in packages/cli/test/load.int.test.ts) at --jobs 1, 2 and 4,
// interleaved. Prints wall times and the speed-up over --jobs 1. Near-linear until the engine
// saturates; on a 2-core machine, expect saturation early.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { clnrmBin, interleave, leftovers, machine, root, stats, table, timed } from "./lib.mjs";
import { writeSuite } from "./suite-files.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const files = Number(process.env.BENCH_FILES ?? 40);
// Under the repository, so that the suite's plugins resolve from its node_modules.
const dir = mkdtempSync(join(root, "bench/.tmp-suite-"));
try {
  writeSuite(dir, files);
  const run = (jobs) => () => {
    const { ms, stdout } = timed(process.execPath, [clnrmBin, "run", "--jobs", String(jobs), "--reporter", "json", dir]);
    const report = JSON.parse(stdout);
    if (report.passed !== files) throw new Error(`--jobs ${jobs}: ${report.passed}/${files} passed`);
    return ms;
  };
  console.log(`suite benchmark — ${machine()} — ${files} files, ${rounds} rounds, interleaved, after one warm-up`);
  const samples = interleave({ "--jobs 1": run(1), "--jobs 2": run(2), "--jobs 4": run(4) }, rounds);
  console.log(table(samples, "--jobs 1"));
  const base = stats(samples["--jobs 1"]).median;
  for (const j of ["--jobs 2", "--jobs 4"]) console.log(`  speed-up ${j}: ×${(base / stats(samples[j]).median).toFixed(2)} over --jobs 1`);
  console.log(`  containers left: ${leftovers()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
