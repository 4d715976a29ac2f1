// Stand-in for ghcr.io/huggingface/text-generation-inference: parses text-generation-launcher's
// arguments and serves /health, /info, /generate. Failure modes by model id: "crash/*" prints an
// error and exits 1 after ~1 s while loading; "ghost/*" starts but /info reports another model.
// Env: STANDIN_LOAD_MS (time to "load" the model before listening, default 1000).
import { createServer } from "node:http";
import { argValue, exitOnSignals, readJson, sendJson as json, urlPath } from "/srv/lib/standin.mjs";

exitOnSignals();

const args = process.argv.slice(2);
const opt = (name, dflt) => argValue(args, name, dflt);
const modelId = opt("--model-id", process.env.MODEL_ID ?? "bigscience/bloom-560m");
const port = Number(opt("--port", process.env.PORT ?? "80"));
const LOAD_MS = Number(process.env.STANDIN_LOAD_MS ?? 1000);
const ts = () => new Date().toISOString();

console.log(`${ts()}  INFO text_generation_launcher: Args { model_id: "${modelId}", num_shard: ${opt("--num-shard", "None")}, quantize: ${opt("--quantize", "None")}, port: ${port} } (stand-in)`);
console.log(`${ts()}  INFO text_generation_launcher: hf token: ${process.env.HF_TOKEN ? "present" : "absent"}`);
console.log(`${ts()}  INFO download: text_generation_launcher: Starting check and download process for ${modelId}`);

if (modelId.startsWith("crash/")) {
  setTimeout(() => {
    console.error(`${ts()} ERROR download: text_generation_launcher: Download encountered an error: repository not found: ${modelId}`);
    console.error(`Error: DownloadError`);
    process.exit(1);
  }, 1000);
} else {
  setTimeout(listen, LOAD_MS);
}

function listen() {
  const info = {
    model_id: modelId.startsWith("ghost/") ? "other/model" : modelId,
    model_sha: "0000000000000000000000000000000000000000",
    model_pipeline_tag: "text-generation",
    max_concurrent_requests: 128,
    max_best_of: 2,
    max_stop_sequences: 4,
    max_input_tokens: Number(opt("--max-input-length", opt("--max-input-tokens", "1024"))),
    max_total_tokens: Number(opt("--max-total-tokens", "2048")),
    validation_workers: 2,
    max_client_batch_size: 4,
    router: "text-generation-router",
    version: "3.3.0",
    sha: "standin",
    docker_label: "sha-standin",
  };
  const server = createServer(async (req, res) => {
    const path = urlPath(req);
    if (req.method === "GET" && path === "/health") return res.writeHead(200).end();
    if (req.method === "GET" && path === "/info") return json(res, 200, info);
    if (req.method === "POST" && (path === "/generate" || path === "/")) {
      const b = await readJson(req);
      if (!b || typeof b.inputs !== "string") return json(res, 422, { error: "Input validation error: `inputs` must be a string", error_type: "validation" });
      return json(res, 200, { generated_text: " world! How are you?" });
    }
    json(res, 404, { error: "Not Found" });
  });
  server.listen(port, "0.0.0.0", () => console.log(`${ts()}  INFO text_generation_router::server: Connected`));
}
