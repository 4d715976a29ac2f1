import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { delayProxy } from "./delay-proxy.js";
import { leftBy, start } from "./helpers.js";

// Teardown owns every create it issued: a signal while the engine is slow to answer an image inspect
// or a container create leaves nothing behind, even once the engine has acted on what it received.
const quick = join(import.meta.dirname, "reliability-fixtures", "quick.clnrm.toml");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a signal while the engine is slow leaves nothing", () => {
  const cases: [string, RegExp, number, NodeJS.Signals, number][] = [
    ["image inspect", /^GET \/[^ ]*images\/[^ ]+\/json/, 8_000, "SIGINT", 130],
    ["image inspect", /^GET \/[^ ]*images\/[^ ]+\/json/, 8_000, "SIGTERM", 143],
    ["container create", /^POST \/[^ ]*containers\/create/, 3_000, "SIGINT", 130],
  ];

  it.each(cases)("slow %s, %s", async (_what, match, delayMs, sig, code) => {
    const proxy = await delayProxy(delayMs, match);
    try {
      const run = start(["run", quick], { env: { DOCKER_HOST: proxy.host } });
      const deadline = Date.now() + 30_000;
      while (!proxy.seen.some((l) => match.test(l))) {
        if (Date.now() > deadline) throw new Error(`no request matching ${match} (saw ${proxy.seen.join(", ")})`);
        await sleep(50);
      }
      await sleep(300);
      const killedAt = performance.now();
      process.kill(run.pid, sig);
      const r = await run.done;
      const ms = r.exitedAt - killedAt;
      // The engine finishes what it was sent (the delayed request, and whatever the run sent after it).
      await proxy.idle();
      await sleep(500);
      console.log(`${sig} during a slow ${_what}: exit ${r.code} after ${ms.toFixed(0)} ms`);
      expect(r.code, r.stderr).toBe(code);
      expect(leftBy(r.pid)).toEqual([]);
      expect(proxy.seen.filter((l) => /\/containers\/[^/]+\/start/.test(l))).toEqual([]);
      // The process lingers only until the engine answers the request it was waiting for.
      expect(ms).toBeLessThan(delayMs + 2_000);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
