import { join } from "node:path";
import { expect, it } from "vitest";
import { clnrm, leftBy } from "./helpers.js";

// `clnrm run` finds span sinks by capability: a local plugin that is not the OpenTelemetry
// collector (an in-process OTLP/HTTP receiver, test/span-sink-fixtures/plugins) receives clnrm's
// own spans, and the file's [[expect.spans]] read them back from it.
const file = join(import.meta.dirname, "span-sink-fixtures/clnrm-spans.clnrm.toml");

it("exports clnrm's spans to a second kind of span sink, and span expectations read them from it", async () => {
  const r = await clnrm(["run", file]);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/✓ step expect span "clnrm\.step"/);
  expect(r.stdout).toMatch(/1 passed, 0 failed/);
  expect(leftBy(r.pid)).toEqual([]);
}, 120_000);

it("a span expectation the sink's spans don't meet fails the test (the sink is really read)", async () => {
  const r = await clnrm(["run", file.replace("clnrm-spans", "clnrm-spans-missing")]);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  expect(r.stdout).toMatch(/✗ step expect span "clnrm\.step": .*clnrm\.step=never ran/);
  expect(leftBy(r.pid)).toEqual([]);
}, 120_000);
