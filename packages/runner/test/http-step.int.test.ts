import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clearSecrets, redact } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, describe, expect, it } from "vitest";
import { planTest, type RunEvent, runTest, type StepResult, type TestResult } from "../src/index.js";

// http steps against a service in a real container (generic_container, the local clnrm-test/node:24
// image running a small HTTP server from this file), reached by ${services.api.url} from the host.
// The server listens only after a delay, so the first step must retry until it is up.

const dir = mkdtempSync(join(import.meta.dirname, ".tmp-http-int-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});

const TOKEN = "tok-3f9a61c2e7d54b08";

writeFileSync(
  join(dir, "server.mjs"),
  `import { createServer } from "node:http";
const items = [{ id: 1, name: "first" }];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const json = (status, value, headers = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(value));
    };
    if (req.url === "/health") return json(200, { ok: true });
    if (req.url === "/private") return req.headers.authorization === "Bearer ${TOKEN}" && req.headers["x-tenant"] === "t1" ? json(200, { ok: true }) : json(401, { error: "unauthorized" });
    if (req.url === "/items" && req.method === "GET") return json(200, { data: items, total: items.length }, { "x-request-id": "req-42" });
    if (req.url === "/items" && req.method === "POST") {
      const item = { id: items.length + 1, ...JSON.parse(body) };
      items.push(item);
      return json(201, item, { location: "/items/" + item.id });
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: " + req.url + "\\n");
  });
});
process.on("SIGTERM", () => process.exit(0));
setTimeout(() => server.listen(8080, "0.0.0.0"), Number(process.env.DELAY_MS ?? 0));
`,
);

async function run(toml: string): Promise<{ result: TestResult; steps: Map<string, StepResult> }> {
  const file = join(dir, `h${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(file, toml);
  const plan = await planTest(file);
  const events: RunEvent[] = [];
  const result = await runTest(plan, { backend: dockerBackend(), onEvent: (e) => events.push(e) });
  const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${result.runId}`], { encoding: "utf8" }).trim();
  expect(left, "containers left behind").toBe("");
  return { result, steps: new Map(result.steps.map((s) => [s.name, s])) };
}

const service = (extra = "") => `[services.api]
type = "generic_container"
image = "clnrm-test/node:24"
ports = ["8080"]
volumes = ["./server.mjs:/srv/server.mjs:ro"]
command = ["node", "/srv/server.mjs"]
${extra}
`;

describe("http steps against a real container", () => {
  it("retry until the server is up, then pass and fail on status, json, regex and headers", async () => {
    const { result, steps } = await run(`${service('env = { DELAY_MS = "1500" }')}
[[steps]]
name = "up"
http = { url = "\${services.api.url}/health" }
retries = 40
retry_interval = "100ms"
timeout = "2s"
expected_json = { ok = true }

[[steps]]
name = "list"
http = { url = "\${services.api.url}/items", headers = { accept = "application/json" } }
expected_status = 200
expected_json = { "/data/0/id" = 1, "/data/0/name" = "first", total = 1 }
expected_headers = { content-type = "^application/json", x-request-id = "^req-\\\\d+$" }
expected_body_regex = '"name":"first"'

[[steps]]
name = "create"
http = { method = "POST", url = "\${services.api.url}/items", json = { name = "second", tags = ["a"] } }
expected_status = 201
expected_json = { id = 2, name = "second", tags = ["a"] }
expected_headers = { location = "^/items/2$" }

[[steps]]
name = "wrong status"
http = { url = "\${services.api.url}/nothing-here" }
continue_on_failure = true

[[steps]]
name = "wrong json"
http = { url = "\${services.api.url}/items" }
expected_json = { "/data/5/name" = "x" }
continue_on_failure = true

[[steps]]
name = "wrong regex"
http = { url = "\${services.api.url}/health" }
expected_body_regex = "ok.:false"
continue_on_failure = true

[[steps]]
name = "wrong header"
http = { url = "\${services.api.url}/health" }
expected_headers = { content-type = "^text/html" }
continue_on_failure = true

[[steps]]
name = "auth"
http = { url = "\${services.api.url}/private", headers = { Authorization = "Bearer ${TOKEN}", X-Tenant = "t2" } }
continue_on_failure = true
`);
    const up = steps.get("up")!;
    expect(up.status, up.failure).toBe("passed");
    expect(up.attempts).toBeGreaterThan(1);
    for (const name of ["list", "create"]) expect(steps.get(name)!.status, steps.get(name)!.failure).toBe("passed");
    expect(steps.get("create")!.stdout).toContain('"name":"second"');

    const status = steps.get("wrong status")!.failure!;
    expect(status).toMatch(/^expected status 2xx, got 404\n {2}request: GET http:\/\/[^/]+:\d+\/nothing-here\n {2}response: 404 Not Found\n/);
    expect(status).toContain("content-type: text/plain");
    expect(status).toContain("not found: /nothing-here");

    expect(steps.get("wrong json")!.failure).toMatch(/^expected_json: \/data\/5\/name is missing: \/data is an array of 2 items\n/);
    expect(steps.get("wrong regex")!.failure).toMatch(/^expected the body to match \/ok\.:false\/\n[\s\S]*\{"ok":true\}/);
    expect(steps.get("wrong header")!.failure).toMatch(/^expected header content-type to match \/\^text\/html\/, got "application\/json; charset=utf-8"/);

    const auth = steps.get("auth")!.failure!;
    expect(auth).toMatch(/^expected status 2xx, got 401/);
    expect(auth).toMatch(/Authorization: \[redacted\]/);
    expect(auth).toContain("X-Tenant: t2");
    expect(auth).not.toContain(TOKEN);
    expect(result.status).toBe("failed");
  }, 120_000);
});

describe("http health checks with headers and an auth_token (real container)", () => {
  const health = (token: string, tenant: string) =>
    service(`env = { DELAY_MS = "500" }\nstartup_timeout = "8s"\nhealth_check = { type = "http", port = 8080, path = "/private", status = 200, timeout = "6s", headers = { X-Tenant = "${tenant}" }, auth_token = "${token}" }`);

  it("the service is ready once the endpoint accepts the token and the header", async () => {
    const { result, steps } = await run(`${health(TOKEN, "t1")}
[[steps]]
name = "reached"
http = { url = "\${services.api.url}/health" }
`);
    expect(result.status, result.error?.message).toBe("passed");
    expect(steps.get("reached")!.status).toBe("passed");
  }, 60_000);

  it("a wrong token (or header) never becomes ready, and the token is not shown", async () => {
    const wrong = "wrong-token-5d1e7c9a";
    const { result } = await run(`${health(wrong, "t1")}
[[steps]]
name = "never"
command = "true"
`);
    expect(result.status).toBe("error");
    const text = JSON.stringify(result);
    expect(text).not.toContain(wrong);
    // registered as a secret from health_check.auth_token: redacted in whatever prints it
    expect(redact(`token ${wrong}`)).toBe("token [redacted]");
    const other = await run(`${health(TOKEN, "t2")}
[[steps]]
name = "never"
command = "true"
`);
    expect(other.result.status).toBe("error");
  }, 60_000);
});
