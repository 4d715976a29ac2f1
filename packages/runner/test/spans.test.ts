import { describe, expect, it } from "vitest";
import { type CollectedSpan, checkSpanExpectations, evaluateSpanExpectation, type SpanExpectationInput, spanExpectationSchema, validateSpanCollectors } from "../src/spans.js";
import { span } from "./span-fixture.js";

const exp = (e: SpanExpectationInput) => spanExpectationSchema.parse(e);
const check = (e: SpanExpectationInput, spans: CollectedSpan[]) => evaluateSpanExpectation(exp(e), spans);

const root = span("handle-request", { spanId: "root" });
const ok = span("GET /users", { parentSpanId: "root", attributes: { "http.method": "GET", "http.status_code": 200, "http.route": "/users/:id", tags: ["a", "b"] }, status: { code: "ok", message: "" }, durationMs: 12 });
const e500 = span("GET /users", { attributes: { "http.method": "GET", "http.status_code": 500 }, status: { code: "error", message: "boom" }, resource: { "service.name": "web" } });
const e404 = span("GET /users", { attributes: { "http.method": "GET", "http.status_code": 404 } });
const db = span("SELECT", { parentSpanId: ok.spanId, kind: "client", durationMs: 2500 });
const all = [root, ok, e500, e404, db];

describe("span expectation schema", () => {
  it("parses durations, compiles regexes and defaults within to 5s", () => {
    const e = exp({ name_regex: "^GET ", attributes_regex: { "http.route": "^/users" }, min_duration: "1ms", max_duration: "2s" });
    expect(e.name_regex).toBeInstanceOf(RegExp);
    expect(e.attributes_regex!["http.route"]!.test("/users/1")).toBe(true);
    expect([e.min_duration, e.max_duration, e.within]).toEqual([1, 2000, 5000]);
  });

  it("rejects bad input with clear messages", () => {
    const msg = (e: unknown) => {
      const r = spanExpectationSchema.safeParse(e);
      expect(r.success, JSON.stringify(e)).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    };
    expect(msg({ name_regex: "(" })).toMatch(/^name_regex: invalid regular expression "\(": missing closing \)$/);
    expect(msg({ attributes_regex: { a: "[" } })).toMatch(/^attributes_regex.a: invalid regular expression/);
    expect(msg({ name: "a", name_regex: "a" })).toMatch(/either name or name_regex/);
    expect(msg({ count: 1, min_count: 1 })).toMatch(/either count or min_count/);
    expect(msg({ min_count: 3, max_count: 1 })).toMatch(/max_count is below min_count/);
    expect(msg({ min_duration: "2s", max_duration: "1s" })).toMatch(/max_duration is below min_duration/);
    expect(msg({ within: "soon" })).toMatch(/invalid duration/);
    expect(msg({ status: "failed" })).toMatch(/^status:/);
    expect(msg({ nmae: "x" })).toMatch(/nmae/);
  });
});

describe("span matchers", () => {
  it("name, name_regex, attributes (200 == \"200\", arrays), attributes_regex", () => {
    expect(check({ name: "GET /users", count: 3 }, all).passed).toBe(true);
    expect(check({ name_regex: "^GET ", min_count: 3 }, all).passed).toBe(true);
    expect(check({ name: "GET /users", attributes: { "http.status_code": 200 } }, all).matched).toBe(1);
    expect(check({ name: "GET /users", attributes: { "http.status_code": "200" } }, all).matched).toBe(1);
    expect(check({ attributes: { tags: ["a", "b"] } }, all).matched).toBe(1);
    expect(check({ attributes: { tags: ["a"] } }, all).matched).toBe(0);
    expect(check({ attributes_regex: { "http.route": "^/users/" } }, all).matched).toBe(1);
    expect(check({ attributes_regex: { "http.status_code": "^[45]" } }, all).matched).toBe(2);
    expect(check({ attributes_regex: { missing: ".*" } }, all).matched).toBe(0);
  });

  it("parent by name, root, kind, status, service_name, durations", () => {
    expect(check({ name: "GET /users", parent: "handle-request" }, all).matched).toBe(1);
    expect(check({ name: "SELECT", parent: "GET /users", kind: "client" }, all).passed).toBe(true);
    expect(check({ parent: "root" }, all).matched).toBe(3);
    expect(check({ status: "error" }, all).matched).toBe(1);
    expect(check({ status: "unset", name: "GET /users" }, all).matched).toBe(1);
    expect(check({ service_name: "web" }, all).matched).toBe(1);
    expect(check({ min_duration: "1s" }, all).matched).toBe(1);
    expect(check({ max_duration: "11ms" }, all).matched).toBe(3);
  });

  it("count bounds: default at least one, exact, min/max, none", () => {
    expect(check({ name: "nope" }, all).passed).toBe(false);
    expect(check({ name: "GET /users", count: 2 }, all).passed).toBe(false);
    expect(check({ name: "GET /users", min_count: 2, max_count: 3 }, all).passed).toBe(true);
    expect(check({ name: "GET /users", max_count: 2 }, all).passed).toBe(false);
    expect(check({ name: "nope", count: 0 }, all).passed).toBe(true);
  });
});

describe("failure messages", () => {
  it("say what was expected, what was found, what the same-named spans have, and every span name", () => {
    expect(check({ name: "GET /users", attributes: { "http.status_code": 201 }, count: 1 }, all).failure).toBe(
      'expected 1 span "GET /users" with http.status_code=201, found 0; spans named "GET /users": 3 (http.status_code=200, 500, 404); all span names: GET /users, SELECT, handle-request',
    );
    expect(check({ name: "GET /users", status: "ok", service_name: "web", parent: "handle-request" }, all).failure).toBe(
      'expected at least 1 span "GET /users" with parent "handle-request", status ok, service.name=web, found 0; spans named "GET /users": 3 (parent=handle-request, root; status=ok, error (boom), unset; service.name=api, web); all span names: GET /users, SELECT, handle-request',
    );
    expect(check({ name: "POST /users" }, all).failure).toBe('expected at least 1 span "POST /users", found 0; all span names: GET /users, SELECT, handle-request');
    expect(check({ name_regex: "^GET", max_count: 1, collector: "otel" }, all).failure).toBe("expected at most 1 span matching /^GET/ in collector 'otel', found 3; all span names: GET /users, SELECT, handle-request");
    expect(check({ name: "x", min_count: 2, max_count: 4, max_duration: "1ms" }, []).failure).toBe('expected 2-4 spans "x" with duration <= 1ms, found 0; the collector received no spans');
    const orphan = span("child", { parentSpanId: "gone" });
    expect(check({ name: "child", parent: "p" }, [orphan]).failure).toBe('expected at least 1 span "child" with parent "p", found 0; spans named "child": 1 (parent=(not collected: gone)); all span names: child');
  });
});

describe("checkSpanExpectations polling", () => {
  it("waits for spans that arrive late, then stops at once", async () => {
    let reads = 0;
    const t0 = Date.now();
    const results = await checkSpanExpectations([exp({ name: "late", within: "3s" }), exp({ name: "GET /users", count: 3 })], async () => (++reads >= 3 ? [...all, span("late")] : all), { pollIntervalMs: 20 });
    expect(results.map((r) => r.passed)).toEqual([true, true]);
    expect(reads).toBe(3);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("fails after `within` with the last snapshot's message", async () => {
    const t0 = Date.now();
    const [r] = await checkSpanExpectations([exp({ name: "never", within: "150ms" })], async () => all, { pollIntervalMs: 20 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(r).toMatchObject({ passed: false, failure: expect.stringMatching(/^expected at least 1 span "never", found 0; all span names/) });
  });

  it("absence (count = 0) holds only after the whole window; a span arriving within it fails it", async () => {
    let reads = 0;
    const t0 = Date.now();
    const [r] = await checkSpanExpectations([exp({ name: "error-span", count: 0, within: "200ms" })], async () => (++reads >= 4 ? [span("error-span")] : []), { pollIntervalMs: 20 });
    expect(r!.passed).toBe(false);
    expect(r!.failure).toMatch(/^expected no span "error-span", found 1/);
    expect(Date.now() - t0).toBeLessThan(200);
    const t1 = Date.now();
    const [ok0] = await checkSpanExpectations([exp({ name: "error-span", count: 0, within: "150ms" })], async () => [], { pollIntervalMs: 20 });
    expect(ok0!.passed).toBe(true);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(150);
  });

  it("reads each expectation's collector, once per poll", async () => {
    const seen: (string | undefined)[] = [];
    const results = await checkSpanExpectations(
      [exp({ collector: "a", name: "GET /users" }), exp({ collector: "b", name: "GET /users" }), exp({ collector: "a", name: "SELECT" })],
      async (c) => {
        seen.push(c);
        return c === "a" ? all : [];
      },
      { pollIntervalMs: 10, now: (() => { let t = 0; return () => (t += 3000); })() },
    );
    expect(results.map((r) => r.passed)).toEqual([true, false, true]);
    expect(seen.slice(0, 2)).toEqual(["a", "b"]);
  });

  it("validates collector references", () => {
    const es = [exp({ name: "a" }), exp({ name: "b", collector: "otel2" })];
    expect(validateSpanCollectors(es, ["otel"])).toEqual([{ index: 1, message: "collector 'otel2' is not a service that collects spans (span collectors here: otel)" }]);
    expect(validateSpanCollectors(es, [])[0]!.message).toMatch(/need a service that collects spans/);
    expect(validateSpanCollectors(es, ["otel", "otel2"])[0]!.message).toMatch(/set collector = "NAME"/);
  });
});
