/**
 * httpServerPlugin and httpJsonCheck against a real HTTP server on localhost. The container is an
 * in-memory stand-in (plugin-kit does not depend on a container engine): it "maps" its port to that
 * server. The same helper runs against real containers in the ollama, vllm and tgi runtime tests.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContainerSpec, RunningContainer } from "@clnrm/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { HTTP_SERVER_OUTPUTS, hfServerPlugin, httpJsonCheck, httpServerPlugin } from "../src/index.js";
import { captureLog, fakeContainer, fakeStartContext } from "../src/testing.js";

let up = false;
const server = createServer((req, res) => {
  if (req.url === "/health") res.statusCode = up ? 200 : 503;
  if (req.url === "/info") return res.end(JSON.stringify({ model_id: "m1" }));
  res.end("{}");
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function containerOnServer(running = () => true): RunningContainer {
  return { ...fakeContainer({ running }), host: "127.0.0.1", name: "srv-1", mappedPort: (p: number) => (p === 8000 ? port : Number.NaN) };
}

it("starts, waits for the readiness path, runs ready, builds the handle; health is GET readinessPath; no stop", async () => {
  up = false;
  setTimeout(() => (up = true), 300);
  const order: string[] = [];
  const specs: ContainerSpec[] = [];
  const container = containerOnServer();
  const plugin = httpServerPlugin({
    port: 8000,
    readinessPath: "/health",
    urlPath: "/v1",
    what: "the server",
    gpu: (spec) => (spec.gpus ? "required" : "off"),
    cpuSetting: "gpus = 0",
    prepare: () => void order.push("prepare"),
    spec: () => {
      order.push("spec");
      return { image: "srv:1" };
    },
    serves: {
      path: "/info",
      what: "the server to report m1",
      timeoutMessage: "no m1",
      timeoutHint: "check the model",
      accept: (b: { model_id?: string }) => {
        order.push("serves");
        return b.model_id === "m1" || "wrong model";
      },
    },
    ready: async (s) => {
      order.push("ready");
      expect(s.origin).toBe(`http://127.0.0.1:${port}`);
    },
    outputs: () => ({ model: "m1" }),
  });
  expect(plugin.stop).toBeUndefined();
  const ctx = fakeStartContext({
    service: "llm",
    backend: {
      ...fakeStartContext().backend,
      run: async (spec) => {
        specs.push(spec);
        return container;
      },
    },
  });
  const handle = await plugin.start(ctx);
  expect(order).toEqual(["prepare", "spec", "serves", "ready"]);
  expect(specs).toEqual([{ image: "srv:1" }]);
  const origin = `http://127.0.0.1:${port}`;
  expect(handle).toEqual({
    service: "llm",
    primary: container,
    containers: [container],
    outputs: { url: `${origin}/v1`, internal_url: "http://llm:8000/v1", host: "127.0.0.1", port, container: "srv-1", model: "m1" },
    data: { origin },
  });
  expect(Object.keys(handle.outputs).sort()).toEqual([...HTTP_SERVER_OUTPUTS, "model"].sort());
  expect(await plugin.healthCheck(handle)).toEqual({ status: "healthy" });
  up = false;
  expect(await plugin.healthCheck(handle)).toMatchObject({ status: "unhealthy", reason: "GET /health answered 503" });
});

const basic = { port: 8000, readinessPath: "/health", gpu: "off", spec: () => ({ image: "srv:1" }) } as const;
const contextOnServer = (log = captureLog()) => fakeStartContext({ startupTimeoutMs: 1_000, log, backend: { ...fakeStartContext().backend, run: async () => containerOnServer() } });

it("hfServerPlugin: warns about an unset hf_token_env; a server that serves another model fails naming it", async () => {
  up = true;
  const plugin = hfServerPlugin({
    ...basic,
    server: "srv",
    model: "m2",
    hfTokenEnv: "CLNRM_TEST_UNSET_HF_TOKEN",
    serves: { path: "/info", verb: "report", hint: "check model_id", accept: (b: { model_id?: string }) => b.model_id === "m2" || `model_id is '${b.model_id}'` },
  });
  const log = captureLog();
  await expect(plugin.start(contextOnServer(log))).rejects.toMatchObject({
    message: expect.stringMatching(/^srv does not report model 'm2' in \/info: model_id is 'm1'/),
    hint: "check model_id",
  });
  expect(log.warnings).toEqual(["environment variable CLNRM_TEST_UNSET_HF_TOKEN (hf_token_env) is not set: gated models will fail to download"]);
});

it("a server that never gets ready fails with the timeout message and the last reason", async () => {
  up = false;
  const plugin = httpServerPlugin({ ...basic, what: "the server", cpuSetting: "gpus = 0", timeoutMessage: "the server did not load its model" });
  await expect(plugin.start(contextOnServer())).rejects.toThrow(/^the server did not load its model: GET \/health answered 503/);
});

it("httpJsonCheck: the accept verdict on 2xx JSON, the status otherwise", async () => {
  const origin = `http://127.0.0.1:${port}`;
  expect(await httpJsonCheck<{ model_id?: string }>(origin, "/info", (b) => b.model_id === "m1" || "no")()).toBe(true);
  expect(await httpJsonCheck<{ model_id?: string }>(origin, "/info", (b) => b.model_id === "m2" || `model_id is ${b.model_id}`)()).toBe("model_id is m1");
  up = false;
  expect(await httpJsonCheck(origin, "/health", () => true)()).toBe("GET /health answered 503");
});
