// Cold start of the CLI and of the Docker backend, against `node -e 0` (the floor), interleaved,
// N rounds after one warm-up:
// - `clnrm --version`, `clnrm plugins`, `clnrm validate` (no container engine code is loaded);
// - `import("@clnrm/docker")` alone (what every library user of the package pays on import);
// - the Docker backend's engine client ready (testcontainers and dockerode loaded, one read-only
//   engine round trip: `liveRuns()`), as a library user gets it and as the CLI gets it (with the
//   deferral of testcontainers' optional dependencies that the CLI's entry point installs); this is
//   what `clnrm run` pays before its first container.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { clnrmBin, interleave, machine, pairedRatios, root, table, timed } from "./lib.mjs";

const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const quickstart = join(root, "examples/quickstart.clnrm.toml");
const dockerDist = pathToFileURL(join(root, "packages/docker/dist/index.js")).href;
const lazyDist = pathToFileURL(join(root, "packages/docker/dist/lazy-deps.js")).href;
const ready = (hook) =>
  `${hook ? `(await import(${JSON.stringify(lazyDist)})).deferOptionalDependencies?.();` : ""}
  const { dockerBackend } = await import(${JSON.stringify(dockerDist)});
  await dockerBackend().liveRuns();`;
console.log(`cold-start benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
const samples = interleave(
  {
    "node -e 0": () => timed(process.execPath, ["-e", "0"]).ms,
    "clnrm --version": () => timed(process.execPath, [clnrmBin, "--version"]).ms,
    "clnrm plugins": () => timed(process.execPath, [clnrmBin, "plugins"]).ms,
    "clnrm validate quickstart": () => timed(process.execPath, [clnrmBin, "validate", quickstart]).ms,
    'import("@clnrm/docker")': () => timed(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(dockerDist)})`]).ms,
    "backend ready (library)": () => timed(process.execPath, ["--input-type=module", "-e", ready(false)]).ms,
    "backend ready (as the CLI)": () => timed(process.execPath, ["--input-type=module", "-e", ready(true)]).ms,
  },
  rounds,
);
console.log(table(samples, "node -e 0"));
for (const job of Object.keys(samples).filter((k) => k !== "node -e 0")) {
  const r = pairedRatios(samples, job, "node -e 0");
  console.log(`  per-round ${job} / node -e 0: min ${r.min.toFixed(2)}  median ${r.median.toFixed(2)}  max ${r.max.toFixed(2)}`);
}
