// The exact container spec sent for the real upstream image, and the config schema: no Docker needed.
import { describe, expect, it } from "vitest";
import plugin, { configSchema, encodeCommand, parseReply, RespError, redisUrl, showCommand, toContainerSpec } from "../src/index.js";

const spec = (raw: Record<string, unknown>) => toContainerSpec(configSchema.parse(raw));

describe("container spec for redis:7.0", () => {
  it("without a password: the upstream image's redis-server, port 6379, no env", () => {
    expect(spec({})).toEqual({
      image: "redis:7.0",
      command: ["redis-server"],
      env: {},
      secretEnv: ["REDISCLI_AUTH"],
      ports: [{ container: 6379 }],
    });
  });

  it("with every key: the password only in the secret env, options after redis-server, a fixed host port", () => {
    expect(spec({ password: "pw-1", databases: 4, append_only: true, port: "16379:6379", image: "redis:7.0.15" })).toEqual({
      image: "redis:7.0.15",
      command: ["sh", "-c", 'exec docker-entrypoint.sh redis-server --requirepass "$REDISCLI_AUTH" "$@"', "redis-server", "--databases", "4", "--appendonly", "yes"],
      env: { REDISCLI_AUTH: "pw-1" },
      secretEnv: ["REDISCLI_AUTH"],
      ports: [{ container: 6379, host: 16379 }],
    });
  });

  it("append_only false and databases unset add no options; a bare host port is accepted", () => {
    expect(spec({ append_only: false, port: 16380 })).toMatchObject({ command: ["redis-server"], ports: [{ container: 6379, host: 16380 }] });
  });
});

describe("config", () => {
  it("init takes arrays (numbers become strings) and space-separated strings", () => {
    expect(configSchema.parse({ init: [["SET", "k", "a b"], "RPUSH list x y", ["EXPIRE", "k", 60]] }).init).toEqual([["SET", "k", "a b"], ["RPUSH", "list", "x", "y"], ["EXPIRE", "k", "60"]]);
  });

  it.each([
    [{ password: "" }, "password must not be empty"],
    [{ password: "has space" }, "password may use letters"],
    [{ password: "a@b" }, "password may use letters"],
    [{ databases: 0 }, ""],
    [{ databases: 2.5 }, ""],
    [{ append_only: "yes" }, ""],
    [{ init: [[]] }, "a command must not be empty"],
    [{ init: ["SET k 'a b'"] }, "write one with quoted arguments as an array"],
    [{ init: "SET k v" }, ""],
    [{ port: "16379:6380" }, "Redis listens on container port 6379"],
    [{ port: 70000 }, "invalid port"],
    [{ requirepass: "x" }, ""],
  ])("rejects %j", (raw, message) => {
    const r = configSchema.safeParse(raw);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join("\n")).toContain(message);
  });

  it("declares its outputs and its secret", () => {
    expect(plugin.type).toBe("redis");
    expect(plugin.outputs?.(configSchema.parse({}))).toEqual(["url", "internal_url", "host", "port"]);
    expect(plugin.secretFields).toEqual(["password"]);
  });

  it("builds redis:// urls with and without a password, and shows commands without it", () => {
    expect(redisUrl("localhost", 32768, undefined)).toBe("redis://localhost:32768/0");
    expect(redisUrl("cache", 6379, "pw")).toBe("redis://default:pw@cache:6379/0");
    expect(showCommand(["SET", "k", "a b"])).toBe('SET k "a b"');
    expect(showCommand(["AUTH", "pw"], "pw")).toBe("AUTH ***");
  });
});

describe("RESP", () => {
  it("a PING is the 14 bytes of the protocol", () => {
    expect(encodeCommand(["PING"]).toString()).toBe("*1\r\n$4\r\nPING\r\n");
    expect(encodeCommand(["SET", "k", "é"]).toString()).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
  });

  it("parses every RESP2 reply type, and waits for an incomplete one", () => {
    const one = (s: string) => parseReply(Buffer.from(s))?.value;
    expect(one("+PONG\r\n")).toBe("PONG");
    expect(one(":42\r\n")).toBe(42);
    expect(one("$3\r\nabc\r\n")).toBe("abc");
    expect(one("$-1\r\n")).toBeNull();
    expect(one("*2\r\n$9\r\ndatabases\r\n$1\r\n4\r\n")).toEqual(["databases", "4"]);
    expect(one("*2\r\n:1\r\n*1\r\n+OK\r\n")).toEqual([1, ["OK"]]);
    const err = one("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    expect(err).toBeInstanceOf(RespError);
    expect((err as RespError).message).toBe("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(parseReply(Buffer.from("$5\r\nab"))).toBeUndefined();
    expect(parseReply(Buffer.from("*2\r\n:1\r\n"))).toBeUndefined();
    expect(parseReply(Buffer.from("+PON"))).toBeUndefined();
    expect(() => parseReply(Buffer.from("HTTP/1.1 400\r\n"))).toThrow(/not a RESP reply/);
  });
});
