import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// Secrets (env values named *_TOKEN, *_PASSWORD, ...) never reach the human output, the JSON or
// the JUnit report, although the container sees them; mounts and capabilities are shown.
const file = join(import.meta.dirname, "secrets-fixtures/secrets.clnrm.toml");
const token = "tok-3f9a1c77e2";
const password = "pw-0b5e6d4411";
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-secrets-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("secrets and privileges in the run output", () => {
  it("human output: redacted values, mounts and capabilities shown", async () => {
    const r = await clnrm(["run", "--verbose", file]);
    expect(r.code).toBe(1); // the second step fails on purpose
    const out = r.stdout + r.stderr;
    expect(out).not.toContain(token);
    expect(out).not.toContain(password);
    expect(out).toContain("token=[redacted]");
    expect(out).toContain("leaked=[redacted]");
    expect(out).toMatch(/mount .*secrets-fixtures → \/fixtures \(read-only\)/);
    expect(out).toContain("added capabilities: NET_ADMIN");
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("JSON and JUnit reports: redacted", async () => {
    const json = join(scratch, "r.json");
    const xml = join(scratch, "r.xml");
    const a = await clnrm(["run", "--reporter", "json", "--output", json, file]);
    const b = await clnrm(["run", "--reporter", "junit", "--output", xml, file]);
    expect([a.code, b.code]).toEqual([1, 1]);
    for (const text of [readFileSync(json, "utf8"), readFileSync(xml, "utf8"), b.stdout]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(password);
      expect(text).toContain("[redacted]");
    }
    expect(readFileSync(xml, "utf8")).toMatch(/<failure[^>]*message="expected exit code 0, got 1/);
  });
});
