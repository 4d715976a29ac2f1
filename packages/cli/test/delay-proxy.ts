// A Docker API proxy over a unix socket that holds chosen requests for a while before it forwards
// them: for tests of what a run does while the engine is slow (e.g. a slow image inspect).
import { request, createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DelayProxy {
  /** unix:///... for DOCKER_HOST. */
  host: string;
  /** Requests seen so far ("GET /v1.x/images/alpine:latest/json"). */
  seen: string[];
  /** Resolves once every request seen so far has been answered by the engine. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function delayProxy(delayMs: number, match: RegExp, upstream = "/var/run/docker.sock"): Promise<DelayProxy> {
  const socketPath = join(mkdtempSync(join(tmpdir(), "clnrm-proxy-")), "docker.sock");
  const seen: string[] = [];
  let pending = 0;
  const server: Server = createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    seen.push(line);
    pending++;
    let answered = false;
    const done = () => {
      if (!answered) pending--;
      answered = true;
    };
    const forward = () => {
      // Forwarded even if the client has gone: an engine that received a request acts on it.
      const up = request({ socketPath: upstream, path: req.url, method: req.method, headers: req.headers }, (r) => {
        r.on("end", done);
        r.on("error", done);
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", () => {
        done();
        res.destroy();
      });
      req.pipe(up);
    };
    if (match.test(line)) setTimeout(forward, delayMs);
    else forward();
  });
  // Upgraded connections (attach, exec start with hijack) pass through as raw sockets.
  server.on("upgrade", (req, socket, head) => {
    const up = request({ socketPath: upstream, path: req.url, method: req.method, headers: req.headers });
    up.on("upgrade", (r, upSocket, upHead) => {
      const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join("\r\n");
      socket.write(`HTTP/1.1 ${r.statusCode} ${r.statusMessage}\r\n${headers}\r\n\r\n`);
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.pipe(socket).pipe(upSocket);
    });
    up.on("error", () => socket.destroy());
    up.end();
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    host: `unix://${socketPath}`,
    seen,
    idle: async () => {
      while (pending > 0) await new Promise((r) => setTimeout(r, 50));
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
