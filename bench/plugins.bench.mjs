#!/usr/bin/env node
// Startup cost of the plugin commands, against a bare `node -e 0`. Plain Node, no dependencies.
//   node bench/plugins.bench.mjs [runs]        (default 15; build first: pnpm build)
// Each round runs every case once, in turn (interleaved), so load changes hit all cases alike.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 15);
const bin = join(root, "packages/cli/dist/bin.js");
const marketplace = pathToFileURL(join(root, "packages/marketplace/dist/index.js")).href;
for (const f of [bin, fileURLToPath(marketplace)]) {
  if (!existsSync(f)) {
    process.stderr.write(`missing ${f}: run pnpm build first\n`);
    process.exit(2);
  }
}

const resolveScript = `const { resolvePlugin } = await import(${JSON.stringify(marketplace)});
const p = await resolvePlugin("generic_container", { projectDir: ${JSON.stringify(root)} });
if (p.type !== "generic_container") process.exit(1);`;

const cases = [
  { name: "node -e 0", args: ["-e", "0"] },
  { name: "clnrm --version", args: [bin, "--version"] },
  { name: "clnrm plugins", args: [bin, "plugins"] },
  { name: "resolve+load generic_container", args: ["--input-type=module", "-e", resolveScript] },
];

const times = cases.map(() => []);
for (let i = 0; i < runs; i++) {
  cases.forEach((c, k) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { cwd: root, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      process.stderr.write(`${c.name} failed (exit ${r.status}): ${r.stderr}\n`);
      process.exit(1);
    }
    times[k].push(ms);
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, max: s[s.length - 1] };
};
const base = stats(times[0]);
const w = Math.max(...cases.map((c) => c.name.length));
const f = (n) => n.toFixed(1).padStart(8);
process.stdout.write(`${runs} runs each, interleaved; ms\n${"case".padEnd(w)}       min   median      max   ×node(median)  ×node(min)\n`);
cases.forEach((c, k) => {
  const s = stats(times[k]);
  process.stdout.write(
    `${c.name.padEnd(w)}  ${f(s.min)} ${f(s.median)} ${f(s.max)}  ${(s.median / base.median).toFixed(2).padStart(12)}  ${(s.min / base.min).toFixed(2).padStart(10)}\n`,
  );
});
const ratio = stats(times[2]).median / base.median;
process.stdout.write(`\nclnrm plugins / node -e 0 (median): ${ratio.toFixed(2)}× (target < 2×)\n`);
