import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets, IN_WORD_SECRET_LENGTH, REDACTED, redact, redactDeep, registerSecret, registerSecretEnv } from "../src/secrets.js";

afterEach(() => clearSecrets());

describe("registerSecret", () => {
  it("registers numbers, as written in decimal", () => {
    registerSecret(987654321);
    expect(redact("password is 987654321")).toBe(`password is ${REDACTED}`);
    registerSecretEnv({ PIN_PASSWORD: 4242 });
    expect(redact("pin=4242")).toBe(`pin=${REDACTED}`);
  });

  it("registers short secrets (any length)", () => {
    registerSecret("ab");
    expect(redact("SHORT_TOKEN=ab")).toBe(`SHORT_TOKEN=${REDACTED}`);
    expect(redact('{"t":"ab"}')).toBe(`{"t":"${REDACTED}"}`);
  });

  it("a multi-line secret registers each non-trivial line too", () => {
    const key = "-----BEGIN KEY-----\nMIIEvQIBADAN\r\nqhkiG9w0\n}\n-----END KEY-----";
    registerSecret(key);
    expect(redact(`key:\n${key}`)).toBe(`key:\n${REDACTED}`);
    expect(redact("line 2: MIIEvQIBADAN")).toBe(`line 2: ${REDACTED}`);
    expect(redact("qhkiG9w0")).toBe(REDACTED);
    expect(redact("a } b")).toBe("a } b"); // a trivial line isn't a secret by itself
  });

  it("ignores empty values, booleans and objects", () => {
    registerSecret("");
    registerSecret(true);
    registerSecret({ a: 1 });
    expect(redact("true [object Object]")).toBe("true [object Object]");
  });
});

describe("redact: whole tokens, long secrets also inside words", () => {
  it("a short secret leaves words and paths that contain it alone", () => {
    registerSecret("root");
    expect(redact("my rootfs is /root")).toBe("my rootfs is /root");
    expect(redact("root.txt, chroot, root_dir, root-1, C:\\root")).toBe("root.txt, chroot, root_dir, root-1, C:\\root");
    expect(redact("pass=root user:root@db 'root' root. (root) root")).toBe(`pass=${REDACTED} user:${REDACTED}@db '${REDACTED}' ${REDACTED}. (${REDACTED}) ${REDACTED}`);
    expect(redact("postgres://postgres:root@db:5432/app")).toBe(`postgres://postgres:${REDACTED}@db:5432/app`);
  });

  it(`a secret of ${IN_WORD_SECRET_LENGTH}+ characters is redacted inside words too`, () => {
    registerSecret("s3cr3t-v4lue");
    expect(redact("xs3cr3t-v4luex /s3cr3t-v4lue")).toBe(`x${REDACTED}x /${REDACTED}`);
  });

  it("overlapping secrets give one [redacted], and a secret that is part of [redacted] doesn't nest", () => {
    registerSecret("abcdefgh12");
    registerSecret("efgh1234xyz");
    registerSecret("redacted");
    expect(redact("abcdefgh1234xyz!")).toBe(`${REDACTED}!`);
    expect(redact("redacted")).toBe(REDACTED);
  });

  it("unicode letters join words", () => {
    registerSecret("pw");
    expect(redact("épw pwé pw")).toBe(`épw pwé ${REDACTED}`);
  });
});

describe("redactDeep", () => {
  it("follows the token rule on strings, replaces secret keys and secret numbers whole", () => {
    registerSecret("root");
    registerSecret(987654321);
    expect(redactDeep({ stdout: "my rootfs is /root", user: "root", password: "anything", pin: 987654321, n: 98765432, list: ["root", "rooted"] })).toEqual({
      stdout: "my rootfs is /root",
      user: REDACTED,
      password: REDACTED,
      pin: REDACTED,
      n: 98765432,
      list: [REDACTED, "rooted"],
    });
  });
});
