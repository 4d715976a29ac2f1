// Start-to-ready of a `postgres` service (target ≤ 1.1×) against a hand-written script that starts
// the same image with the raw docker CLI (same env, PGDATA on a tmpfs, a published 5432) and polls
// the same readiness query (`SELECT 1` over TCP as the user, inside the container) every 50 ms.
// clnrm's side is `startServices` (the programmatic API: plan, the docker backend's probe wait, the
// lifecycle's health check), timed from the call until it returns; teardown is not timed on
// either side. Interleaved rounds, after one warm-up round of each.
//   node bench/postgres-start.bench.mjs        (BENCH_ROUNDS, default 8; build first: pnpm build)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { env, interleaveAsync, leftovers, machine, pairedRatios, root, table } from "./lib.mjs";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const IMAGE = "postgres:15";
const PASS = "bench-Pa55word";
const { startServices } = await import(pathToFileURL(join(root, "packages/cli/dist/api.js")).href);
const dir = mkdtempSync(join(tmpdir(), "clnrm-pg-bench-"));
const file = join(dir, "pg.clnrm.toml");
writeFileSync(
  file,
  `[meta]
name = "postgres start"

[services.db]
type = "postgres"
image = "${IMAGE}"
database_name = "bench"
username = "bench"
password = "${PASS}"

[[steps]]
name = "up"
service = "db"
command = ["true"]
`,
);

async function clnrm() {
  const t0 = performance.now();
  const started = await startServices(file);
  const ms = performance.now() - t0;
  await started.stop();
  return ms;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function raw() {
  const t0 = performance.now();
  const id = execFileSync(
    "docker",
    ["run", "-d", "-e", "POSTGRES_USER=bench", "-e", "POSTGRES_DB=bench", "-e", `POSTGRES_PASSWORD=${PASS}`, "--tmpfs", "/var/lib/postgresql/data", "-p", "5432", IMAGE],
    { env, encoding: "utf8" },
  ).trim();
  try {
    for (;;) {
      const r = spawnSync("docker", ["exec", id, "sh", "-c", `PGPASSWORD="$POSTGRES_PASSWORD" psql -X -q -w -h 127.0.0.1 -U bench -d bench -tAc 'SELECT 1'`], { env, encoding: "utf8" });
      if (r.status === 0 && r.stdout.trim() === "1") break;
      if (performance.now() - t0 > 60_000) throw new Error(`raw: not ready after 60 s: ${r.stderr}`);
      await sleep(50);
    }
    return performance.now() - t0;
  } finally {
    execFileSync("docker", ["rm", "-f", "-v", id], { env, stdio: "ignore" });
  }
}

console.log(`postgres start-to-ready — ${machine()} — ${rounds} rounds after one warm-up`);
const samples = await interleaveAsync({ "raw docker CLI, SELECT 1 every 50 ms": raw, "clnrm startServices (postgres)": clnrm }, rounds);
rmSync(dir, { recursive: true, force: true });
console.log(table(samples, "raw docker CLI, SELECT 1 every 50 ms"));
const r = pairedRatios(samples, "clnrm startServices (postgres)", "raw docker CLI, SELECT 1 every 50 ms");
console.log(`  paired ratio clnrm / raw: min ${r.min.toFixed(2)}  median ${r.median.toFixed(2)}  max ${r.max.toFixed(2)}  (target ≤ 1.1)`);
console.log(`  containers left: ${leftovers()}`);
process.exit(0);
