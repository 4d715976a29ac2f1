import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CleanroomError, clearSecrets, redact } from "@clnrm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonMismatch } from "../src/http-step.js";
import { planTest, runStep, stepSchema } from "../src/index.js";

// http steps without Docker: validation (exit-2 errors with file:line:col), the expected_json rules,
// and requests against a real HTTP server in this process (node:http, not a mock of fetch).

const dir = mkdtempSync(join(import.meta.dirname, ".tmp-http-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(toml: string): Promise<string> {
  const file = join(dir, `h${Math.random().toString(36).slice(2)}.clnrm.toml`);
  writeFileSync(file, toml);
  const err = await planTest(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the file was accepted").toBeInstanceOf(CleanroomError);
  return (err as CleanroomError).format();
}

describe("http step validation", () => {
  it("accepts a step with http and no command", async () => {
    const file = join(dir, "ok.clnrm.toml");
    writeFileSync(file, '[[steps]]\nname = "h"\nhttp = { method = "post", url = "http://localhost:1/x", json = { a = 1 } }\nexpected_status = [200, 201]\nexpected_json = { "/a" = 1 }\n');
    const plan = await planTest(file);
    expect(plan.steps[0]!.http).toMatchObject({ method: "POST", url: "http://localhost:1/x", json: { a: 1 } });
    expect(plan.steps[0]!.expected_status).toEqual([200, 201]);
  });

  it.each([
    ['http = { method = "FETCH", url = "http://x/" }', /:3:\d+: steps\[0\]\.http\.method: invalid http method "FETCH": use one of GET, HEAD/],
    ['http = { url = "localhost:8080/x y" }', /:3:\d+: steps\[0\]\.http\.url: url "localhost:8080\/x y": only http:\/\/ and https:\/\/ URLs can be requested \(did you mean "http:\/\/localhost:8080\/x y"\?\)/],
    ['http = { url = "not a url" }', /:3:\d+: steps\[0\]\.http\.url: invalid url "not a url": write an absolute URL/],
    ['http = { url = "ftp://x/" }', /:3:\d+: steps\[0\]\.http\.url: url "ftp:\/\/x\/": only http:\/\/ and https:\/\//],
    ['http = { url = "http://x/" }\ncommand = "true"', /:3:\d+: steps\[0\]\.http: a step has either command or http, not both/],
    ['http = { url = "http://x/" }\nexpected_output_regex = "x"', /:4:1: steps\[0\]\.expected_output_regex: expected_output_regex does not apply to an http step/],
    ['http = { url = "http://x/" }\nservice = "a"', /:4:1: steps\[0\]\.service: service does not apply to an http step/],
    ['http = { url = "http://x/" }\nexpected_exit_code = 0', /:4:1: steps\[0\]\.expected_exit_code: expected_exit_code does not apply to an http step/],
    ['command = "true"\nexpected_status = 200', /:4:1: steps\[0\]\.expected_status: expected_status does not apply to a command step/],
    ['http = { method = "PUT", url = "http://x/", body = "a", json = { a = 1 } }', /steps\[0\]\.http\.json: give body or json, not both/],
    ['http = { url = "http://x/", json = { a = 1 } }', /steps\[0\]\.http\.json: a GET request has no body/],
    ['http = { url = "http://x/" }\nexpected_status = 42', /:4:\d+: steps\[0\]\.expected_status: .*an HTTP status is 100–599/],
    ['http = { url = "http://x/" }\nexpected_json = { "/a~2" = 1 }', /steps\[0\]\.expected_json\.\/a~2: invalid JSON pointer/],
    ['http = { url = "http://x/" }\nexpected_body_regex = "(?=x)"', /:4:1: steps\[0\]\.expected_body_regex: .*lookahead/],
    ['http = { url = "http://x/", verb = "GET" }', /:3:\d+: steps\[0\]\.http\.verb: unknown key 'verb' \(valid keys: method, url, headers, body, json\)/],
    ['http = { url = "${services.nope.url}/x" }', /:3:\d+: .*'nope'/],
    ['comand = "true"', /:3:1: steps\[0\]\.comand: unknown key 'comand' \(did you mean 'command'\?\)$/],
    ["retries = 1", /steps\[0\]: a step needs a command \(or an http request/],
  ])("refuses %s", async (lines, want) => {
    const line = await refusal(`[[steps]]\nname = "h"\n${lines}\n`);
    expect(line.split("\n")[0]).toMatch(want);
    expect(line.split("\n"), line).toHaveLength(1);
    expect(line).not.toMatch(/at .*\.ts:\d+|undefined|\[object Object\]/);
  });
});

describe("http health check validation", () => {
  it.each([
    ['auth_token = ""', /:4:\d+: services\.api\.health_check\.auth_token: auth_token must not be empty/],
    ['headers = { "bad header" = "x" }', /:4:\d+: services\.api\.health_check\.headers.*invalid header name/],
    ["headers = { X-Tenant = 1 }", /:4:\d+: services\.api\.health_check\.headers\.X-Tenant: .*string/],
  ])("refuses %s", async (extra, want) => {
    const line = await refusal(`[services.api]\ntype = "generic_container"\nimage = "clnrm-test/node:24"\nhealth_check = { type = "http", port = 8080, ${extra} }\n`);
    expect(line.split("\n")[0]).toMatch(want);
  });
});

describe("expected_json", () => {
  const body = { data: [{ id: 1, name: "a", tags: ["x", "y"] }, { id: 2 }], total: 2, "a/b": true };
  it.each([
    [{ "/data/0/id": 1 }, undefined],
    [{ "/data/1": { id: 2 } }, undefined],
    [{ total: 2 }, undefined],
    [{ data: [{ id: 1 }, {}] }, undefined],
    [{ "/a~1b": true }, undefined],
    [{ "/data/0/tags": ["x", "y"] }, undefined],
    [{ "/data/0/id": 2 }, "/data/0/id: expected 2, got 1"],
    [{ "/data/0/id": "1" }, '/data/0/id: expected "1" (string), got 1 (number)'],
    [{ "/data/5/id": 1 }, "/data/5/id is missing: /data is an array of 2 items"],
    [{ "/nope": 1 }, '/nope is missing: the body has no key "nope"'],
    [{ data: [{ id: 1 }] }, "/data: expected an array of 1 items, got 2"],
    [{ total: { n: 1 } }, "/total: expected an object, got 2"],
    [{ missing: 1 }, '/missing is missing (the body has keys "data", "total", "a/b")'],
  ])("%j", (expected, mismatch) => {
    const got = jsonMismatch(body, expected);
    if (mismatch === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(mismatch);
  });
});

describe("http steps against a real server (node:http in this process)", () => {
  let server: Server;
  let base: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/echo") {
          res.writeHead(201, { "content-type": "application/json", "x-seen-auth": req.headers.authorization ?? "" });
          res.end(JSON.stringify({ method: req.method, type: req.headers["content-type"], body: Buffer.concat(chunks).toString() }));
        } else if (req.url === "/flaky") {
          hits++;
          res.writeHead(hits < 3 ? 503 : 200);
          res.end(`hit ${hits}`);
        } else if (req.url === "/slow") {
          setTimeout(() => res.end("late"), 2_000);
        } else {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("no such thing\nsecond line");
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
    clearSecrets();
  });

  const step = (fields: Record<string, unknown>) => stepSchema.parse({ name: "h", ...fields });
  const run = (fields: Record<string, unknown>) => runStep(step(fields), { container: undefined, cwd: dir }, new AbortController().signal);

  it("sends json with its content type and checks status, headers, json and body", async () => {
    const r = await run({
      http: { method: "POST", url: `${base}/echo`, json: { a: [1, 2] } },
      expected_status: 201,
      expected_headers: { "Content-Type": "^application/json$" },
      expected_json: { method: "POST", type: "application/json", "/body": '{"a":[1,2]}' },
      expected_body_regex: '"method":"POST"',
    });
    expect(r.failure).toBeUndefined();
    expect(r.status).toBe("passed");
    expect(r.stdout).toContain('"method":"POST"');
  });

  it("a failure shows the request, the status, the headers and the head of the body, with the token redacted", async () => {
    const token = "s3cr3t-token-value";
    const r = await run({ http: { url: `${base}/missing`, headers: { Authorization: `Bearer ${token}` } }, expected_body_regex: "found" });
    expect(r.status).toBe("failed");
    const f = r.failure!;
    expect(f).toMatch(/^expected status 2xx, got 404; expected the body to match \/found\//);
    expect(f).toContain(`request: GET ${base}/missing`);
    expect(f).toMatch(/authorization: \[redacted\]/i);
    expect(f).toContain("response: 404 Not Found");
    expect(f).toContain("content-type: text/plain");
    expect(f).toContain("no such thing\n    second line");
    expect(f).not.toContain(token);
    expect(redact(`x ${token} y`)).toBe("x [redacted] y");
  });

  it("reports the header that does not match", async () => {
    const r = await run({ http: { method: "POST", url: `${base}/echo`, body: "x", headers: { Authorization: "Basic abc" } }, expected_status: 201, expected_headers: { "content-type": "^text/html", "x-absent": "." } });
    expect(r.failure).toMatch(/expected header content-type to match \/\^text\/html\/, got "application\/json"; expected header x-absent, which the response does not have/);
  });

  it("retries until the response meets the expectations", async () => {
    hits = 0;
    const r = await run({ http: { url: `${base}/flaky` }, retries: 5, retry_interval: "50ms", expected_body_regex: "^hit 3$" });
    expect(r.failure).toBeUndefined();
    expect(r.attempts).toBe(3);
  });

  it("gives up after its retries, saying how many attempts", async () => {
    hits = -100;
    const r = await run({ http: { url: `${base}/flaky` }, retries: 1, retry_interval: "10ms" });
    expect(r.status).toBe("failed");
    expect(r.failure).toMatch(/^after 2 attempts: expected status 2xx, got 503/);
  });

  it("times out per attempt", async () => {
    const t = performance.now();
    const r = await run({ http: { url: `${base}/slow` }, timeout: "300ms" });
    expect(performance.now() - t).toBeLessThan(1_500);
    expect(r.failure).toMatch(/^timed out after 300 ?ms: no response/);
  });

  it("a refused connection is a failure that says so", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await run({ http: { url: `http://127.0.0.1:${port}/` } });
    expect(r.failure).toMatch(/^request failed: .*ECONNREFUSED/);
  });

  it("a non-JSON body fails expected_json with the parse error", async () => {
    hits = 100;
    const r = await run({ http: { url: `${base}/flaky` }, expected_json: { a: 1 } });
    expect(r.failure).toMatch(/^expected a JSON body, but it does not parse/);
  });
});
