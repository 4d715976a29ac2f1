// Stand-in for ollama/ollama: the HTTP API subset clnrm's ollama plugin and tests use.
// Failure modes: a model named "missing-*" fails to pull; "ghost*" pulls but never shows in /api/tags.
// Env: STANDIN_PULL_MS (pull duration, default 1500), STANDIN_STARTUP_MS (delay before listening).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { exitOnSignals, readJson, sendJson, urlPath } from "/srv/lib/standin.mjs";

const PULL_MS = Number(process.env.STANDIN_PULL_MS ?? 1500);
const STARTUP_MS = Number(process.env.STANDIN_STARTUP_MS ?? 0);
const STORE_DIR = "/root/.ollama";
const STORE = `${STORE_DIR}/standin-models.json`;
const port = Number((process.env.OLLAMA_HOST ?? "0.0.0.0:11434").split(":")[1] ?? 11434);

exitOnSignals();

const full = (name) => (name.includes(":") ? name : `${name}:latest`);
function load() {
  try {
    return JSON.parse(readFileSync(STORE, "utf8"));
  } catch {
    return [];
  }
}
function save(models) {
  mkdirSync(STORE_DIR, { recursive: true });
  writeFileSync(STORE, JSON.stringify(models));
}
const models = new Set(load());

const json = (res, status, obj) => sendJson(res, status, obj, "application/json; charset=utf-8");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pull(req, res) {
  const b = await readJson(req);
  const name = b?.model ?? b?.name;
  if (!name) return json(res, 400, { error: "model is required" });
  const stream = b.stream !== false;
  console.log(`[GIN] POST /api/pull model=${name}`);
  if (!stream) {
    await sleep(PULL_MS);
    if (name.startsWith("missing-")) return json(res, 500, { error: "pull model manifest: file does not exist" });
    if (!name.startsWith("ghost")) {
      models.add(full(name));
      save([...models]);
    }
    return json(res, 200, { status: "success" });
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (o) => res.write(`${JSON.stringify(o)}\n`);
  line({ status: "pulling manifest" });
  if (name.startsWith("missing-")) {
    await sleep(100);
    console.log(`time=now level=ERROR msg="pull model manifest: file does not exist" model=${name}`);
    line({ error: "pull model manifest: file does not exist" });
    return res.end();
  }
  const total = 2_900_000_000;
  const digest = "sha256:8934d96d3f08982e95922b2b7a2c626a1fe873d7c3b06e8e56d7bc0a1fef9246";
  const steps = 10;
  for (let i = 0; i <= steps; i++) {
    line({ status: `pulling ${digest.slice(7, 19)}`, digest, total, completed: Math.round((total * i) / steps) });
    await sleep(PULL_MS / steps);
  }
  line({ status: "pulling 8c17c2ebb0ea", digest: "sha256:8c17c2ebb0ea", total: 7020, completed: 7020 });
  line({ status: "verifying sha256 digest" });
  line({ status: "writing manifest" });
  if (!name.startsWith("ghost")) {
    models.add(full(name));
    save([...models]);
  }
  line({ status: "success" });
  res.end();
}

async function generate(req, res) {
  const b = await readJson(req);
  if (!b?.model) return json(res, 400, { error: "model is required" });
  if (!models.has(full(b.model))) return json(res, 404, { error: `model "${b.model}" not found, try pulling it first` });
  const words = ["Hello", "!", " How", " can", " I", " help", " you", " today", "?"];
  const base = { model: b.model, created_at: new Date().toISOString() };
  const final = { ...base, done: true, done_reason: "stop", total_duration: 123456789, load_duration: 1234567, prompt_eval_count: 2, eval_count: words.length, eval_duration: 98765432 };
  if (b.stream === false) return json(res, 200, { ...final, response: words.join(""), context: [1, 2, 3] });
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  for (const w of words) res.write(`${JSON.stringify({ ...base, response: w, done: false })}\n`);
  res.end(`${JSON.stringify({ ...final, response: "", context: [1, 2, 3] })}\n`);
}

const server = createServer((req, res) => {
  const path = urlPath(req);
  if (req.method === "GET" && (path === "/" || path === "/api/version")) {
    return path === "/" ? res.end("Ollama is running") : json(res, 200, { version: "0.6.5" });
  }
  if (req.method === "GET" && path === "/api/tags") {
    return json(res, 200, {
      models: [...models].map((m) => ({ name: m, model: m, modified_at: new Date().toISOString(), size: 3826793677, digest: "78e26419b446", details: { format: "gguf", family: "llama", parameter_size: "7B", quantization_level: "Q4_0" } })),
    });
  }
  if (req.method === "POST" && path === "/api/pull") return void pull(req, res);
  if (req.method === "POST" && path === "/api/generate") return void generate(req, res);
  json(res, 404, { error: "404 page not found" });
});

setTimeout(() => {
  server.listen(port, "0.0.0.0", () => console.log(`time=now level=INFO msg="Listening on [::]:${port} (version 0.6.5)"`));
}, STARTUP_MS);
