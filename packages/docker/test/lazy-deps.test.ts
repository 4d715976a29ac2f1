/**
 * Importing @clnrm/docker has no global side effect: the module loader is left alone, and neither
 * testcontainers nor dockerode is loaded until the engine is needed. The CLI's entry point opts in to
 * deferring testcontainers' heavy optional dependencies (`deferOptionalDependencies`).
 * Each check runs in a fresh Node process, since vitest's own may have loaded them already; the
 * engine is needed for none (a backend is only constructed). That the deferred modules still work
 * when used is covered by every integration test (they run in vitest with the loader untouched) and
 * by the CLI's end-to-end tests (with the hook).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { lazyModule } from "../src/lazy-deps.js";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const lazyDist = fileURLToPath(new URL("../dist/lazy-deps.js", import.meta.url));
const HEAVY = ["undici", "@grpc/grpc-js", "protobufjs", "ssh2", "archiver", "docker-compose", "proper-lockfile"];

interface Loaded {
  loaded: string[];
  core: string[];
  deferred: string[];
  requirePatched: boolean;
}

/** In a fresh process: optionally install the hook, import the package, optionally load testcontainers; report what got loaded. */
async function inFreshProcess(opts: { hook?: boolean; loadTestcontainers?: boolean; env?: Record<string, string> } = {}): Promise<Loaded> {
  const script = `
    import { createRequire } from "node:module";
    const Module = createRequire(${JSON.stringify(dist)})("node:module");
    const before = Module.prototype.require;
    ${opts.hook ? `(await import(${JSON.stringify(lazyDist)})).deferOptionalDependencies();` : ""}
    const m = await import(${JSON.stringify(dist)});
    const requirePatched = Module.prototype.require !== before;
    ${opts.loadTestcontainers ? `await import("testcontainers");` : ""}
    const files = Object.keys(createRequire(${JSON.stringify(dist)}).cache);
    const has = (p) => files.some((f) => f.includes("/node_modules/" + p + "/"));
    new m.DockerBackend();
    console.log(JSON.stringify({
      loaded: ${JSON.stringify(HEAVY)}.filter(has),
      core: ["testcontainers", "dockerode"].filter(has),
      deferred: [...m.deferredModules].sort(),
      requirePatched,
    }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, ...opts.env },
  });
  return JSON.parse(stdout);
}

describe("no global side effects on import", () => {
  it("importing @clnrm/docker patches no loader and loads neither testcontainers nor dockerode", async () => {
    const r = await inFreshProcess();
    expect(r.requirePatched).toBe(false);
    expect(r.core).toEqual([]);
    expect(r.loaded).toEqual([]);
    expect(r.deferred).toEqual([]);
  });

  it("without the hook, testcontainers loads its optional dependencies as it asks", async () => {
    const r = await inFreshProcess({ loadTestcontainers: true });
    expect(r.core).toEqual(["testcontainers", "dockerode"]);
    expect(r.loaded).toEqual(expect.arrayContaining(["undici", "@grpc/grpc-js", "archiver"]));
  });

  it("with the CLI's hook, testcontainers loads without its heavy optional dependencies", async () => {
    const r = await inFreshProcess({ hook: true, loadTestcontainers: true });
    expect(r.requirePatched).toBe(true);
    expect(r.core).toEqual(["testcontainers", "dockerode"]);
    expect(r.loaded).toEqual([]);
    expect(r.deferred).toEqual(expect.arrayContaining(["undici", "archiver", "docker-compose", "./session", "./ssh"]));
  });

  it("CLNRM_EAGER_DEPS=1 turns the hook off", async () => {
    const r = await inFreshProcess({ hook: true, loadTestcontainers: true, env: { CLNRM_EAGER_DEPS: "1" } });
    expect(r.requirePatched).toBe(false);
    expect(r.loaded).toEqual(expect.arrayContaining(["undici", "@grpc/grpc-js", "archiver"]));
    expect(r.deferred).toEqual([]);
  });
});

describe("lazyModule", () => {
  it("loads once, on first use, and behaves like the module", () => {
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
