import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { http, httpHealth, httpOkCheck } from "../src/index.js";
import { fakeContainer } from "../src/testing.js";

const server = createServer((req, res) => {
  if (req.url === "/slow") return; // never answers
  if (req.url === "/loading") res.statusCode = 503;
  res.end("ok");
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

it("answers normally, and gives up after timeoutMs or when the caller's signal aborts", async () => {
  expect(await (await http(`${base}/`)).text()).toBe("ok");
  const t0 = Date.now();
  await expect(http(`${base}/slow`, { timeoutMs: 200 })).rejects.toThrow();
  expect(Date.now() - t0).toBeLessThan(2_000);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await expect(http(`${base}/slow`, { timeoutMs: 10_000, signal: ac.signal })).rejects.toThrow();
  expect(Date.now() - t0).toBeLessThan(3_000);
});

it("httpOkCheck: true on 2xx, else the status as the reason", async () => {
  expect(await httpOkCheck(base, "/health")()).toBe(true);
  expect(await httpOkCheck(base, "/loading")()).toBe("GET /loading answered 503");
});

it("httpHealth: healthy on 2xx; unhealthy with the status, the network error, or the exit code and log tail", async () => {
  const up = fakeContainer();
  expect(await httpHealth(up, base, "/health")).toMatchObject({ status: "healthy" });
  expect(await httpHealth(up, base, "/loading")).toMatchObject({ status: "unhealthy", reason: "GET /loading answered 503" });
  expect(await httpHealth(up, "http://127.0.0.1:1", "/health")).toMatchObject({ status: "unhealthy", reason: "GET /health failed: fetch failed" });
  const down = fakeContainer({ running: () => false, exitCode: 137, log: "OOM" });
  expect(await httpHealth(down, base, "/health")).toMatchObject({ status: "unhealthy", reason: "container exited with code 137; last log lines: OOM" });
  expect(await httpHealth(undefined, base, "/health")).toMatchObject({ status: "unknown" });
});
