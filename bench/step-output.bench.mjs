// Peak memory of clnrm for a step that prints a lot: 1 MB and 200 MB of stdout, on the host and in a
// container, each run in a fresh child process that reports process.resourceUsage().maxRSS. The step's
// expected_output_regex matches only the last line, so the whole stream goes through the matcher.
// Target: the 200 MB step's peak RSS within 50 MB of the 1 MB step's: flat in the output size; what grows is garbage the GC has not yet collected, not kept output. Before bounding, a 200 MB container step took about 1 GB.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { env, machine, root, stats } from "./lib.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const [mode, bytes] = process.argv.slice(2);

if (mode) {
  // Child: run one step and print its figures.
  const { runStep, stepSchema } = await import(join(root, "packages/runner/dist/index.js"));
  const { DockerBackend } = await import(join(root, "packages/docker/dist/index.js"));
  const backend = new DockerBackend();
  const runId = `bench-${process.pid}`;
  const box = mode === "container" ? await backend.run({ image: "clnrm-test/busybox:latest", command: ["sleep", "600"] }, { runId, service: "box" }) : undefined;
  try {
    const step = stepSchema.parse({
      name: "big",
      command: ["sh", "-c", `yes 0123456789abcdef | head -c ${bytes}; echo; echo END`],
      expected_output_regex: "^END$",
      timeout: "5m",
    });
    const t0 = performance.now();
    const r = await runStep(step, { container: box, cwd: root }, new AbortController().signal);
    const ms = performance.now() - t0;
    if (r.status !== "passed") throw new Error(`step failed: ${r.failure}`);
    console.log(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, kept: r.stdout.length }));
  } finally {
    await box?.remove();
    await backend.sweep({ runId });
  }
} else {
  console.log(`step-output benchmark — ${machine()} — ${rounds} rounds`);
  const rows = [];
  for (const where of ["host", "container"]) {
    for (const size of [1_000_000, 200_000_000]) {
      const samples = [];
      for (let i = 0; i < rounds; i++) {
        const r = spawnSync(process.execPath, [process.argv[1], where, String(size)], { env, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`child failed: ${r.stderr || r.stdout}`);
        samples.push(JSON.parse(r.stdout.trim().split("\n").pop()));
      }
      const rss = stats(samples.map((s) => s.maxRssMb));
      const ms = stats(samples.map((s) => s.ms));
      rows.push({ where, size, rss });
      console.log(
        `  ${where.padEnd(9)} ${String(size / 1e6).padStart(4)} MB  peak RSS min/median/max ${rss.min.toFixed(0)}/${rss.median.toFixed(0)}/${rss.max.toFixed(0)} MB` +
          `  step ${ms.min.toFixed(0)}/${ms.median.toFixed(0)}/${ms.max.toFixed(0)} ms  kept ${samples[0].kept} chars`,
      );
    }
  }
  for (const where of ["host", "container"]) {
    const [small, big] = rows.filter((r) => r.where === where);
    const growth = big.rss.median - small.rss.median;
    console.log(`  ${where}: 200 MB step uses ${growth.toFixed(0)} MB more than a 1 MB step (target ≤ 50)`);
  }
}
