/**
 * A minimal RESP2 client over TCP: enough to PING, AUTH and run the `init` commands from the host
 * without a dependency. Requests are RESP arrays of bulk strings; replies are parsed into
 * strings, numbers, null, arrays, or a RespError for an error reply (`-ERR ...`).
 */
import { connect, type Socket } from "node:net";

export type RespValue = string | number | null | RespValue[];

/** An error reply of the server (`-WRONGTYPE ...`): the message is the server's. */
export class RespError extends Error {
  override readonly name = "RespError";
}

/** Encodes one command: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per argument. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, "utf8");
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

type Parsed = { value: RespValue | RespError; end: number } | undefined;

/** Parses one reply starting at `at`; undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, at = 0): Parsed {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const line = buf.toString("utf8", at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at] ?? 0)) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RespError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString("utf8", next, next + len), end: next + len + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        // An error inside an array (EXEC's replies) is kept as its message.
        items.push(item.value instanceof RespError ? `ERR ${item.value.message}` : item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString("utf8", at, Math.min(buf.length, at + 40)))}`);
  }
}

export interface RespConnectOptions {
  host: string;
  port: number;
  /** Sent as `AUTH <password>` right after connecting. */
  password?: string;
  /** For the connection and for each reply (default 5 s). */
  timeoutMs?: number;
}

/** One connection; commands are answered in order. */
export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void }> = [];
  private closedWith: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed by the server")));
  }

  static async open(o: RespConnectOptions): Promise<RespConnection> {
    const timeoutMs = o.timeoutMs ?? 5_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: o.host, port: o.port });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const conn = new RespConnection(socket, timeoutMs);
    if (o.password !== undefined) {
      try {
        await conn.command(["AUTH", o.password]);
      } catch (err) {
        conn.close();
        throw err;
      }
    }
    return conn;
  }

  /** Sends one command; an error reply rejects with a RespError. */
  command(args: readonly string[]): Promise<RespValue> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<RespValue>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiting.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.closedWith ??= new Error("connection closed");
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      let parsed: Parsed;
      try {
        parsed = parseReply(this.buf);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      const w = this.waiting.shift();
      if (!w) continue;
      if (parsed.value instanceof RespError) w.reject(parsed.value);
      else w.resolve(parsed.value);
    }
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    this.socket.destroy();
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}

/** Connects (with AUTH when a password is given), runs one command, closes. */
export async function respCommand(o: RespConnectOptions, args: readonly string[]): Promise<RespValue> {
  const conn = await RespConnection.open(o);
  try {
    return await conn.command(args);
  } finally {
    conn.close();
  }
}
