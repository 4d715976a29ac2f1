// Cold start of the CLI: `clnrm --version` and `clnrm plugins` against `node -e 0` (the floor),
// interleaved, N rounds after one warm-up.
import { clnrmBin, interleave, machine, table, timed } from "./lib.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
console.log(`cold-start benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
const samples = interleave(
  {
    "node -e 0": () => timed(process.execPath, ["-e", "0"]).ms,
    "clnrm --version": () => timed(process.execPath, [clnrmBin, "--version"]).ms,
    "clnrm plugins": () => timed(process.execPath, [clnrmBin, "plugins"]).ms,
  },
  rounds,
);
console.log(table(samples, "node -e 0"));
