// The one health check that both the readiness wait (wait.ts) and a container's probe() run. Here
// against a real HTTP server on the host, with a ProbeTarget that maps ports to it; the
// integration tests run the same check against containers through both paths.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProbeTarget, checkProbe } from "../src/probe.js";

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === "/teapot" ? 418 : req.url === "/moved" ? 302 : 200;
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function target(over: Partial<ProbeTarget> = {}): ProbeTarget {
  return {
    host: "127.0.0.1",
    port: (p) => (p === 80 ? port : 1),
    exec: async () => 1,
    logs: async () => "",
    ...over,
  };
}

describe("checkProbe", () => {
  it("http: 2xx/3xx passes by default, or exactly the status asked for", async () => {
    expect(await checkProbe({ kind: "http", port: 80 }, target())).toBe(true);
    expect(await checkProbe({ kind: "http", port: 80, path: "/moved" }, target())).toBe(true);
    expect(await checkProbe({ kind: "http", port: 80, path: "/teapot" }, target())).toBe(false);
    expect(await checkProbe({ kind: "http", port: 80, path: "/teapot", status: 418 }, target())).toBe(true);
  });

  it("tcp: a listener passes, a closed port does not", async () => {
    expect(await checkProbe({ kind: "tcp", port: 80 }, target())).toBe(true);
    expect(await checkProbe({ kind: "tcp", port: 81 }, target())).toBe(false);
  });

  it("exec: exit 0 passes, with the exec timeout passed on", async () => {
    const seen: number[] = [];
    const t = target({
      exec: async (cmd, timeoutMs) => {
        seen.push(timeoutMs);
        return cmd[0] === "true" ? 0 : 1;
      },
    });
    expect(await checkProbe({ kind: "exec", command: ["true"] }, t, { execTimeoutMs: 1234 })).toBe(true);
    expect(await checkProbe({ kind: "exec", command: ["false"] }, t)).toBe(false);
    expect(seen).toEqual([1234, 5_000]);
  });

  it("log: the pattern must match `times` times (multiline)", async () => {
    const t = target({ logs: async () => "boot\nready\nready\n" });
    expect(await checkProbe({ kind: "log", pattern: "^ready$" }, t)).toBe(true);
    expect(await checkProbe({ kind: "log", pattern: "^ready$", times: 2 }, t)).toBe(true);
    expect(await checkProbe({ kind: "log", pattern: "^ready$", times: 3 }, t)).toBe(false);
  });

  it("throws what the target throws (an unpublished port), for the caller to decide", async () => {
    const t = target({
      port: () => {
        throw new Error("port 80 is not published");
      },
    });
    await expect(checkProbe({ kind: "http", port: 80 }, t)).rejects.toThrow("not published");
  });
});
