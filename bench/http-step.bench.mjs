// An http step's overhead against curl doing the same request from the host. One container
// (clnrm-test/node:24 serving a small JSON endpoint on a published port) and, interleaved, N rounds
// after one warm-up of:
//  - the http step as the runner runs it (`runStep` from the runner's dist: schema-parsed step,
//    fetch, status and expected_json checks, result), GET /health with expected_json = { ok = true };
//  - `curl -sf -o /dev/null -w %{http_code}` of the same URL, spawned from this process;
//  - the same curl as a host command step (`runStep` of command = ["curl", ...]), what a file
//    without http steps does today.
// Target: http step ≤ 1.2× curl. Needs `pnpm --filter @clnrm/runner build` and curl on the host.
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { interleaveAsync, machine, pairedRatios, root, stats, table } from "./lib.mjs";

const run = promisify(execFile);
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const { runStep, stepSchema } = await import(pathToFileURL(join(root, "packages/runner/dist/index.js")).href);

const server = `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json" }); s.end('{"ok":true}'); }).listen(8080);
process.on("SIGTERM", () => process.exit(0));`;
const id = execFileSync("docker", ["run", "-d", "--rm", "--label", "clnrm.bench=http-step", "-p", "127.0.0.1::8080", "clnrm-test/node:24", "node", "-e", server], { encoding: "utf8" }).trim();
try {
  const port = execFileSync("docker", ["port", id, "8080/tcp"], { encoding: "utf8" }).trim().split("\n")[0].split(":").pop();
  const url = `http://127.0.0.1:${port}/health`;
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) break;
    if (i > 100) throw new Error(`the server in ${id} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const target = { container: undefined, cwd: root };
  const signal = new AbortController().signal;
  const httpStep = stepSchema.parse({ name: "health", http: { url }, expected_status: 200, expected_json: { ok: true } });
  const curlArgs = ["-sf", "-o", "/dev/null", "-w", "%{http_code}", url];
  const curlStep = stepSchema.parse({ name: "health", command: ["curl", ...curlArgs], expected_output_regex: "^200$" });
  const time = async (f) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const passed = (r) => {
    if (r.status !== "passed") throw new Error(r.failure);
  };

  console.log(`http-step benchmark — ${machine()} — ${rounds} rounds, interleaved, after one warm-up`);
  const samples = await interleaveAsync(
    {
      "http step (runStep)": () => time(async () => passed(await runStep(httpStep, target, signal))),
      "curl from the host": () =>
        time(async () => {
          const { stdout } = await run("curl", curlArgs);
          if (stdout !== "200") throw new Error(`curl: ${stdout}`);
        }),
      "host step running curl (runStep)": () => time(async () => passed(await runStep(curlStep, target, signal))),
    },
    rounds,
  );
  console.log(table(samples, "curl from the host"));
  for (const [name, xs] of Object.entries(samples)) {
    const st = stats(xs);
    console.log(`  ${name}: min ${st.min.toFixed(2)} ms  median ${st.median.toFixed(2)} ms  max ${st.max.toFixed(2)} ms`);
  }
  const r = pairedRatios(samples, "http step (runStep)", "curl from the host");
  console.log(`  per-round http step / curl: min ${r.min.toFixed(2)}  median ${r.median.toFixed(2)}  max ${r.max.toFixed(2)} (target ≤ 1.20: ${r.median <= 1.2 ? "met" : "MISSED"})`);
  const h = pairedRatios(samples, "http step (runStep)", "host step running curl (runStep)");
  console.log(`  per-round http step / host curl step: min ${h.min.toFixed(2)}  median ${h.median.toFixed(2)}  max ${h.max.toFixed(2)}`);
} finally {
  execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" });
}
