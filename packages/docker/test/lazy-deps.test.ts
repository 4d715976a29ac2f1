/**
 * testcontainers' optional dependencies are loaded on first use, not when @clnrm/docker is imported.
 * The import checks run in a fresh Node process, since vitest's own may have loaded them already.
 * That the deferred modules still work when used is covered by every integration test with an HTTP
 * health check (undici) and by the archive copy tests.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { lazyModule } from "../src/lazy-deps.js";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const HEAVY = ["undici", "@grpc/grpc-js", "protobufjs", "ssh2", "archiver", "docker-compose", "proper-lockfile"];

async function loadedAfterImport(env: Record<string, string> = {}): Promise<{ loaded: string[]; deferred: string[] }> {
  const script = `
    import { createRequire } from "node:module";
    const m = await import(${JSON.stringify(dist)});
    const files = Object.keys(createRequire(${JSON.stringify(dist)}).cache);
    const loaded = ${JSON.stringify(HEAVY)}.filter((p) => files.some((f) => f.includes("/node_modules/" + p + "/")));
    console.log(JSON.stringify({ loaded, deferred: [...m.deferredModules].sort(), backend: typeof m.DockerBackend }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

describe("lazy testcontainers dependencies", () => {
  it("importing @clnrm/docker loads none of the heavy optional dependencies", async () => {
    const r = await loadedAfterImport();
    expect(r.loaded).toEqual([]);
    expect(r.deferred).toEqual(expect.arrayContaining(["undici", "archiver", "docker-compose", "./session", "./ssh"]));
  });

  it("CLNRM_EAGER_DEPS=1 loads them as testcontainers asks", async () => {
    const r = await loadedAfterImport({ CLNRM_EAGER_DEPS: "1" });
    expect(r.loaded).toEqual(expect.arrayContaining(["undici", "@grpc/grpc-js", "archiver"]));
    expect(r.deferred).toEqual([]);
  });

  it("a lazy module loads once, on first use, and behaves like the module", () => {
    let loads = 0;
    const real = Object.assign((x: number) => x * 2, { named: "yes", Klass: class { v = 7 } });
    const lazy = lazyModule("fake", () => {
      loads++;
      return real;
    }) as typeof real & { __esModule?: boolean };
    expect(lazy.__esModule).toBeUndefined();
    expect(loads).toBe(0);
    expect(lazy(21)).toBe(42);
    expect(lazy.named).toBe("yes");
    expect(new lazy.Klass().v).toBe(7);
    expect("named" in lazy).toBe(true);
    expect(Object.keys(lazy)).toEqual(["named", "Klass"]);
    expect(loads).toBe(1);
  });

  it("an object inheriting from a lazy module gets its own properties without loading it (docker-modem's pattern)", () => {
    let loads = 0;
    const real = { request: () => "real", other: 1 };
    const lazy = lazyModule("fake2", () => {
      loads++;
      return real;
    });
    const h = Object.create(lazy as object) as Record<string, unknown>;
    h.request = () => "wrapped";
    expect(loads).toBe(0);
    expect(real.request()).toBe("real");
    expect((h.request as () => string)()).toBe("wrapped");
    expect(h.other).toBe(1);
    expect(loads).toBe(1);
  });
});
