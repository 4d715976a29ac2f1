// Shared helpers for the benchmarks: timing child processes, interleaving, and printing medians.
import { execFileSync, spawnSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const clnrmBin = join(root, "packages/cli/dist/bin.js");
export const env = { ...process.env, TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "localhost", NO_COLOR: "1" };

/** Runs a command, returns wall time in ms; throws when it fails. */
export function timed(cmd, args, options = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: "utf8", cwd: root, ...options });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr || r.stdout}`);
  return { ms, stdout: r.stdout };
}

/** Runs each named job `rounds` times, interleaved (a, b, c, a, b, c, ...), after one warm-up round. */
export function interleave(jobs, rounds) {
  for (const job of Object.values(jobs)) job();
  const samples = Object.fromEntries(Object.keys(jobs).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, job] of Object.entries(jobs)) samples[name].push(job());
  }
  return samples;
}

/** `interleave` for jobs that return a promise of ms. */
export async function interleaveAsync(jobs, rounds) {
  for (const job of Object.values(jobs)) await job();
  const samples = Object.fromEntries(Object.keys(jobs).map((k) => [k, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, job] of Object.entries(jobs)) samples[name].push(await job());
  }
  return samples;
}

export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length };
}

/**
 * Per-round ratios a[i] / b[i] of two interleaved jobs: each pair ran back to back, so a machine
 * whose speed drifts during the benchmark moves both sides of a ratio together.
 */
export function pairedRatios(samples, a, b) {
  return stats(samples[a].map((x, i) => x / samples[b][i]));
}

export const fmt = (ms) => `${ms.toFixed(0).padStart(6)} ms`;

export function table(samples, baseline) {
  const base = stats(samples[baseline]).median;
  const rows = Object.entries(samples).map(([name, xs]) => {
    const st = stats(xs);
    return `  ${name.padEnd(34)} min ${fmt(st.min)}  median ${fmt(st.median)}  max ${fmt(st.max)}  ×${(st.median / base).toFixed(2)} of ${baseline}`;
  });
  return rows.join("\n");
}

export function machine() {
  let docker = "?";
  try {
    docker = execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim();
  } catch {}
  return `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Docker ${docker}`;
}

export function leftovers() {
  return execFileSync("docker", ["ps", "-aq", "--filter", "label=clnrm.managed=true"], { encoding: "utf8" }).split("\n").filter(Boolean).length;
}
