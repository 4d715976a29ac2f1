import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// Numeric, two-character and multi-line secrets are redacted in every output format, while
// ordinary words that contain a short secret ("rootfs", "/root" under pass = "root") are left alone.
const file = join(import.meta.dirname, "secrets-fixtures/kinds.clnrm.toml");
const clear = ["987654321", "short=ab", "pass=root", "MIIEvQIBADANBgkqh", "kiG9w0BAQEFAASC"];
const scratch = mkdtempSync(join(import.meta.dirname, ".tmp-secret-kinds-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function expectRedacted(text: string): void {
  for (const s of clear) expect(text, `shows ${s}`).not.toContain(s);
  expect(text).toContain("pw=[redacted]");
  expect(text).toContain("short=[redacted]");
}

describe("secrets of every kind in the run output", () => {
  it("human output (--verbose)", async () => {
    const r = await clnrm(["run", "--verbose", file]);
    expect(r.code, r.stdout + r.stderr).toBe(1); // the second step fails on purpose
    const out = r.stdout + r.stderr;
    expectRedacted(out);
    expect(out).toContain("pass=[redacted]");
    expect(out).toContain("my rootfs is /root");
    expect(leftBy(r.pid)).toEqual([]);
  });

  it("JSON and JUnit reports", async () => {
    const json = join(scratch, "r.json");
    const xml = join(scratch, "r.xml");
    const a = await clnrm(["run", "--reporter", "json", "--output", json, file]);
    const b = await clnrm(["run", "--reporter", "junit", "--output", xml, file]);
    expect([a.code, b.code]).toEqual([1, 1]);
    const report = readFileSync(json, "utf8");
    expectRedacted(report);
    expect(report).toContain("my rootfs is /root");
    expectRedacted(readFileSync(xml, "utf8"));
    for (const s of clear) expect(b.stdout + a.stdout).not.toContain(s);
    expect(leftBy(a.pid)).toEqual([]);
    expect(leftBy(b.pid)).toEqual([]);
  });
});
