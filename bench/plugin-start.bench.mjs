// Start-to-ready of the real-engine plugins (target ≤ 1.1× each) against a hand-written script that
// starts the same image with the raw docker CLI (same credentials, a published port) and polls the
// same readiness query every 50 ms: postgres `SELECT 1` over TCP inside the container, redis `PING`
// answered `PONG` with the password, rabbitmq the management API's health checks for the vhost.
// clnrm's side is `startServices` (the programmatic API: plan, the docker backend's probe wait, the
// lifecycle's health check), timed from the call until it returns; teardown is not timed on either
// side. Interleaved rounds per plugin, after one warm-up round of each.
//   node bench/plugin-start.bench.mjs [postgres] [redis] [rabbitmq]   (BENCH_ROUNDS, default 8; build first)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { env, interleaveAsync, leftovers, machine, pairedRatios, root, table } from "./lib.mjs";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const PASS = "bench-Pa55word";
const { startServices } = await import(pathToFileURL(join(root, "packages/cli/dist/api.js")).href);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each plugin: its service table, the raw `docker run` arguments, and one readiness check (true = ready). */
const PLUGINS = {
  postgres: {
    toml: `type = "postgres"\nimage = "postgres:15"\ndatabase_name = "bench"\nusername = "bench"\npassword = "${PASS}"`,
    run: ["-e", "POSTGRES_USER=bench", "-e", "POSTGRES_DB=bench", "-e", `POSTGRES_PASSWORD=${PASS}`, "--tmpfs", "/var/lib/postgresql/data", "-p", "5432", "postgres:15"],
    query: "SELECT 1 every 50 ms",
    ready: (id) => {
      const r = spawnSync("docker", ["exec", id, "sh", "-c", `PGPASSWORD="$POSTGRES_PASSWORD" psql -X -q -w -h 127.0.0.1 -U bench -d bench -tAc 'SELECT 1'`], { env, encoding: "utf8" });
      return r.status === 0 && r.stdout.trim() === "1";
    },
  },
  redis: {
    toml: `type = "redis"\nimage = "redis:7.0"\npassword = "${PASS}"`,
    run: ["-p", "6379", "redis:7.0", "--requirepass", PASS],
    query: "PING every 50 ms",
    ready: (id) => {
      const r = spawnSync("docker", ["exec", "-e", `REDISCLI_AUTH=${PASS}`, id, "redis-cli", "PING"], { env, encoding: "utf8" });
      return r.status === 0 && r.stdout.trim() === "PONG";
    },
  },
  rabbitmq: {
    toml: `type = "rabbitmq"\nimage = "rabbitmq:3.10-management"\nusername = "bench"\npassword = "${PASS}"\nvhost = "bench"`,
    run: ["-e", "RABBITMQ_DEFAULT_USER=bench", "-e", `RABBITMQ_DEFAULT_PASS=${PASS}`, "-e", "RABBITMQ_DEFAULT_VHOST=bench", "-p", "5672", "-p", "15672", "rabbitmq:3.10-management"],
    query: "management health every 50 ms",
    ready: async (id) => {
      const port = execFileSync("docker", ["port", id, "15672/tcp"], { env, encoding: "utf8" }).split("\n")[0].split(":").at(-1);
      const auth = `Basic ${Buffer.from(`bench:${PASS}`).toString("base64")}`;
      const ok = async (path) => (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: auth } }).catch(() => undefined))?.status === 200;
      return (await ok("/api/health/checks/virtual-hosts")) && (await ok("/api/health/checks/port-listener/5672")) && (await ok("/api/vhosts/bench"));
    },
  },
};

const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(PLUGINS);
const dir = mkdtempSync(join(tmpdir(), "clnrm-plugin-start-bench-"));
console.log(`plugin start-to-ready — ${machine()} — ${rounds} rounds after one warm-up`);
for (const name of chosen) {
  const p = PLUGINS[name];
  if (!p) throw new Error(`unknown plugin '${name}' (one of ${Object.keys(PLUGINS).join(", ")})`);
  const file = join(dir, `${name}.clnrm.toml`);
  writeFileSync(file, `[meta]\nname = "${name} start"\n\n[services.svc]\n${p.toml}\n\n[[steps]]\nname = "up"\nservice = "svc"\ncommand = ["true"]\n`);
  const clnrm = async () => {
    const t0 = performance.now();
    const started = await startServices(file);
    const ms = performance.now() - t0;
    await started.stop();
    return ms;
  };
  const raw = async () => {
    const t0 = performance.now();
    const id = execFileSync("docker", ["run", "-d", ...p.run], { env, encoding: "utf8" }).trim();
    try {
      while (!(await p.ready(id))) {
        if (performance.now() - t0 > 120_000) throw new Error(`raw ${name}: not ready after 120 s`);
        await sleep(50);
      }
      return performance.now() - t0;
    } finally {
      execFileSync("docker", ["rm", "-f", "-v", id], { env, stdio: "ignore" });
    }
  };
  const base = `raw docker CLI, ${p.query}`;
  const ours = `clnrm startServices (${name})`;
  const samples = await interleaveAsync({ [base]: raw, [ours]: clnrm }, rounds);
  console.log(`\n${name}`);
  console.log(table(samples, base));
  const r = pairedRatios(samples, ours, base);
  console.log(`  paired ratio clnrm / raw: min ${r.min.toFixed(2)}  median ${r.median.toFixed(2)}  max ${r.max.toFixed(2)}  (target ≤ 1.1)`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`  containers left: ${leftovers()}`);
process.exit(0);
