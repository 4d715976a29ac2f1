// Runs every benchmark in sequence. Each prints ratios against a baseline measured in the same run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const only = process.argv.slice(2);
const all = ["quickstart", "multi-service", "readiness", "orchestration", "plugins", "plugin-start", "coldstart", "suite"].filter((b) => existsSync(new URL(`./${b}.bench.mjs`, import.meta.url)));
let failed = 0;
for (const b of only.length ? only : all) {
  const r = spawnSync(process.execPath, [new URL(`./${b}.bench.mjs`, import.meta.url).pathname], { stdio: "inherit" });
  if (r.status !== 0) failed++;
  console.log();
}
process.exit(failed ? 1 : 0);
