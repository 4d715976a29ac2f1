// Stand-in for vllm/vllm-openai: parses the api_server CLI arguments and serves /health, /v1/models,
// /v1/completions and /v1/chat/completions. Failure modes by model name: "crash/*" prints an error
// and exits 1 after ~1 s while loading; "ghost/*" starts but /v1/models lists nothing.
// Env: STANDIN_LOAD_MS (time to "load" the model before listening, default 1000).
import { createServer } from "node:http";
import { argValue, exitOnSignals, readJson, sendJson as json, urlPath } from "/srv/lib/standin.mjs";

exitOnSignals();

const args = process.argv.slice(2);
const opt = (name, dflt) => argValue(args, name, dflt);
const model = opt("--model", "facebook/opt-125m");
const served = opt("--served-model-name", model);
const port = Number(opt("--port", "8000"));
const maxLen = Number(opt("--max-model-len", "2048"));
const LOAD_MS = Number(process.env.STANDIN_LOAD_MS ?? 1000);

console.log(`INFO api_server.py: vLLM API server version 0.8.5 (stand-in)`);
console.log(`INFO api_server.py: args: ${JSON.stringify(args)}`);
console.log(`INFO api_server.py: hf token: ${process.env.HF_TOKEN ? "present" : "absent"}`);
console.log(`INFO model_runner.py: Starting to load model ${model}...`);

if (model.startsWith("crash/")) {
  setTimeout(() => {
    console.error(`ERROR engine.py: OSError: ${model} is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'`);
    process.exit(1);
  }, 1000);
} else {
  setTimeout(listen, LOAD_MS);
}

const notFound = (name) => ({ object: "error", message: `The model \`${name}\` does not exist.`, type: "NotFoundError", param: null, code: 404 });
const created = Math.floor(Date.now() / 1000);

function listen() {
  const server = createServer(async (req, res) => {
    const path = urlPath(req);
    if (req.method === "GET" && path === "/health") return res.writeHead(200).end();
    if (req.method === "GET" && path === "/version") return json(res, 200, { version: "0.8.5" });
    if (req.method === "GET" && path === "/v1/models") {
      const data = served.startsWith("ghost/") ? [] : [{ id: served, object: "model", created, owned_by: "vllm", root: model, parent: null, max_model_len: maxLen }];
      return json(res, 200, { object: "list", data });
    }
    if (req.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions")) {
      const b = await readJson(req);
      if (!b) return json(res, 400, { object: "error", message: "invalid JSON", type: "BadRequestError", code: 400 });
      if (b.model !== served) return json(res, 404, notFound(b.model));
      const usage = { prompt_tokens: 2, total_tokens: 7, completion_tokens: 5 };
      if (path === "/v1/completions") {
        return json(res, 200, { id: "cmpl-standin", object: "text_completion", created, model: served, choices: [{ index: 0, text: " world! How are you?", logprobs: null, finish_reason: "length", stop_reason: null }], usage });
      }
      return json(res, 200, { id: "chatcmpl-standin", object: "chat.completion", created, model: served, choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you?" }, finish_reason: "stop" }], usage });
    }
    json(res, 404, { detail: "Not Found" });
  });
  server.listen(port, "0.0.0.0", () => console.log(`INFO:     Uvicorn running on http://0.0.0.0:${port} (Press CTRL+C to quit)`));
}
