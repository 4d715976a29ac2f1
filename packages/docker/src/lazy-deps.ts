// Opt-in, for a program's entry point (the clnrm CLI's bin.ts calls it first thing): importing this
// module or @clnrm/docker changes nothing; only `deferOptionalDependencies()` patches the loader.
//
// testcontainers' main module requires everything it could ever use: an HTTP client (undici),
// archivers, docker-compose, file locks, an SSH port forwarder, a properties-file reader, and
// through dockerode a gRPC/protobuf stack for BuildKit sessions, ssh2 for ssh:// hosts, tar-fs,
// zlib and https. clnrm needs none of them to start a container, yet importing testcontainers
// took ~430 ms here, ~120 ms without them. `deferOptionalDependencies()`, called before testcontainers
// is loaded, makes exactly those requires lazy: they return a proxy that loads the real module on first use, so a
// run that uses an HTTP health check loads undici then, and one that never does, never does.
//
// Only the requires listed below, and only when made from inside those three packages, are
// deferred; any other require is untouched. CLNRM_EAGER_DEPS=1 turns this off.
import { createRequire } from "node:module";

interface RequireHost {
  prototype: { require(this: { filename?: string }, id: string): unknown };
}

/** Which requires to defer, by the requiring file's package. */
const DEFERRED: readonly [RegExp, ReadonlySet<string>][] = [
  [/[\\/]testcontainers[\\/]build[\\/]/, new Set(["undici", "archiver", "tar-fs", "docker-compose", "proper-lockfile", "ssh-remote-port-forward", "properties-reader"])],
  // tar-fs and zlib: only to pack a build context. https (and with it tls): only for a tcp+TLS engine.
  [/[\\/]dockerode[\\/]lib[\\/]/, new Set(["./session", "zlib", "tar-fs"])],
  [/[\\/]docker-modem[\\/]lib[\\/]/, new Set(["./ssh", "https"])],
];

/** Requests deferred so far whose module has not been loaded yet (for tests and --verbose diagnostics). */
export const deferredModules = new Set<string>();

function deferred(filename: string | undefined, id: string): boolean {
  return !!filename && DEFERRED.some(([where, ids]) => ids.has(id) && where.test(filename));
}

/**
 * A stand-in for a CommonJS module that loads it on first use. It answers `__esModule` without loading
 * (TypeScript's `__importDefault` asks at require time), so `x.default.fn()` and `x.fn()` both work.
 */
export function lazyModule(id: string, load: () => unknown): unknown {
  let real: unknown;
  let loaded = false;
  const get = (): object => {
    if (!loaded) {
      real = load();
      loaded = true;
      deferredModules.delete(id);
    }
    return real as object;
  };
  deferredModules.add(id);
  const proxy: object = new Proxy(() => {}, {
    get: (_t, key, receiver) => {
      if (key === "__esModule" && !loaded) return undefined;
      const mod = get();
      return Reflect.get(mod, key, receiver === proxy ? mod : receiver);
    },
    has: (_t, key) => Reflect.has(get(), key),
    set: (_t, key, value, receiver) => {
      // An object that inherits from the module (docker-modem's `h.prototype = https`) gets its own
      // property, as it would from the real module, without loading it.
      if (receiver !== proxy) return Reflect.defineProperty(receiver, key, { value, writable: true, enumerable: true, configurable: true });
      return Reflect.set(get(), key, value);
    },
    apply: (_t, self, args) => Reflect.apply(get() as (...a: unknown[]) => unknown, self, args),
    construct: (_t, args) => Reflect.construct(get() as new (...a: unknown[]) => object, args),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d && { ...d, configurable: true };
    },
  });
  return proxy;
}

/**
 * Makes the requires listed in DEFERRED lazy for the rest of the process (it replaces
 * Module.prototype.require with a wrapper that passes every other require through). For a program's
 * entry point, before anything loads testcontainers; a library must not call it. Idempotent;
 * CLNRM_EAGER_DEPS=1 makes it do nothing. Returns whether the hook is installed.
 */
export function deferOptionalDependencies(): boolean {
  if (process.env.CLNRM_EAGER_DEPS === "1") return false;
  const Module = createRequire(import.meta.url)("node:module") as RequireHost;
  const proto = Module.prototype;
  const original = proto.require;
  if ((original as { clnrmLazy?: boolean }).clnrmLazy) return true;
  const patched = function (this: { filename?: string }, id: string): unknown {
    if (deferred(this.filename, id)) return lazyModule(id, () => original.call(this, id));
    return original.call(this, id);
  };
  (patched as { clnrmLazy?: boolean }).clnrmLazy = true;
  proto.require = patched;
  return true;
}
