/**
 * `@clnrm/core/testing`: the conformance suite a plugin author runs in vitest against their own
 * plugin and a real container engine.
 *
 *     import { DockerBackend } from "@clnrm/docker";
 *     import { pluginConformance } from "@clnrm/core/testing";
 *     import plugin from "../src/index.js";
 *
 *     pluginConformance({
 *       definition: plugin,
 *       backend: () => new DockerBackend(),
 *       validConfig: { image: "alpine:latest" },
 *       invalidConfigs: [{ image: "" }, { image: "alpine", bogus: 1 }],
 *     });
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../health.js";
import { ServiceLifecycle } from "../lifecycle.js";
import { type PluginDefinition, type PluginLogger, isPluginDefinition, SUPPORTED_API_VERSIONS } from "../plugin.js";
import { REDACTED, redact, registerSecretFields } from "../secrets.js";
import type { ContainerBackend, ContainerSpec, NetworkHandle } from "../spec.js";

export interface ConformanceOptions {
  definition: PluginDefinition;
  /** The engine to run against (a function, so that creating it happens inside the tests). */
  backend: () => ContainerBackend | Promise<ContainerBackend>;
  /** A config that starts and becomes healthy on this machine. */
  validConfig: unknown;
  /** Configs the schema must reject (unknown keys, wrong types, bad values). At least one. */
  invalidConfigs: readonly unknown[];
  /** Directory that relative paths in the config resolve against. */
  baseDir?: string;
  /** Startup timeout for each start, in ms (default 60 s). */
  startupTimeoutMs?: number;
  /** Service name used for the test service (default: "svc"). */
  service?: string;
  /** Test timeout for the tests that start containers (default 120 s). */
  testTimeoutMs?: number;
  /**
   * A valid config holding `secret` in a secret field, for the secret checks. Default: `validConfig`
   * with `secret` written at the first of the definition's `secretFields` that the schema accepts.
   * Without either, the secret checks are skipped.
   */
  secretConfig?: (secret: string) => unknown;
  /**
   * Outputs that hold the secret on purpose (a connection URL with its password, used by steps):
   * the secret check asserts that reports show them redacted instead of asserting they lack it.
   */
  secretOutputs?: readonly string[];
}

const quiet: PluginLogger = { progress() {}, warn() {}, debug() {} };

/** A copy of `config` with `value` at a dotted path. */
function withPath(config: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const obj = config && typeof config === "object" && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
  return { ...obj, [head]: withPath(obj[head], rest, value) };
}

/** What `docker inspect` shows of a container, when the backend is Docker and its CLI is on PATH. */
async function dockerInspect(ids: readonly string[]): Promise<Array<{ Name: string; Path: string; Args: string[]; Config: { Cmd: string[] | null; Entrypoint: string[] | null; Env: string[] | null; Labels: Record<string, string> | null } }> | undefined> {
  try {
    return JSON.parse((await promisify(execFile)("docker", ["inspect", ...ids])).stdout);
  } catch {
    return undefined;
  }
}

export function pluginConformance(options: ConformanceOptions): void {
  const { definition } = options;
  const service = options.service ?? "svc";
  const timeout = options.testTimeoutMs ?? 120_000;
  const runIds: string[] = [];
  let backend: ContainerBackend | undefined;
  const networks: NetworkHandle[] = [];

  async function setup() {
    backend ??= await options.backend();
    const runId = `conf-${randomBytes(4).toString("hex")}`;
    runIds.push(runId);
    const network = await backend.createNetwork(runId);
    networks.push(network);
    return { backend, runId, network };
  }

  /** A lifecycle for the valid config; with `failHealth`, the plugin's health check fails after its start. */
  function lifecycle(failHealth = false, config: unknown = options.validConfig) {
    const parsed = definition.configSchema.parse(config);
    const plugin = definition.create(parsed, { service, baseDir: options.baseDir ?? process.cwd() });
    const startMs = options.startupTimeoutMs ?? 60_000;
    return new ServiceLifecycle({
      service,
      pluginType: definition.type,
      ...(definition.role ? { role: definition.role } : {}),
      plugin: failHealth ? { ...plugin, start: (ctx) => plugin.start(ctx), stop: async (h, ctx) => void (await plugin.stop?.(h, ctx)), healthCheck: async () => HealthStatus.failed("conformance: injected health failure") } : plugin,
      timeouts: { startMs, healthMs: startMs },
    });
  }

  describe(`plugin conformance: ${definition.type}`, () => {
    afterAll(async () => {
      if (!backend) return;
      for (const runId of runIds) await backend.sweep({ runId });
      for (const n of networks) await n.remove();
    });

    it("is a branded definition with a supported apiVersion and a description", () => {
      expect(isPluginDefinition(definition)).toBe(true);
      expect(SUPPORTED_API_VERSIONS).toContain(definition.apiVersion);
      // `kafka`, or scoped like an npm package: `@acme/kafka`.
      expect(definition.type).toMatch(/^(@[a-z0-9][a-z0-9_.-]*\/)?[a-z0-9][a-z0-9_.-]*$/);
      expect(definition.description.length).toBeGreaterThan(0);
    });

    it("schema accepts the valid config", () => {
      const r = definition.configSchema.safeParse(options.validConfig);
      expect(r.success, r.success ? "" : JSON.stringify(r.error.issues)).toBe(true);
    });

    it("schema rejects bad config", () => {
      expect(options.invalidConfigs.length).toBeGreaterThan(0);
      for (const bad of options.invalidConfigs) {
        expect(definition.configSchema.safeParse(bad).success, `accepted ${JSON.stringify(bad)}`).toBe(false);
      }
      expect(definition.configSchema.safeParse({ ...(options.validConfig as object), __no_such_key__: 1 }).success, "accepts unknown keys").toBe(false);
    });

    it(
      "start returns a handle, is healthy, stop removes every container, stop is idempotent",
      async () => {
        const { backend: be, runId, network } = await setup();
        const lc = lifecycle();
        const handle = await lc.start({ runId, backend: be, network, baseDir: options.baseDir ?? process.cwd(), log: quiet, dependencies: {}, services: new Map() });
        expect(handle.service).toBe(service);
        expect(handle.containers.length).toBeGreaterThan(0);
        expect(typeof handle.outputs).toBe("object");
        // `validate` refuses references to any output a plugin does not declare: the declaration must be the real list.
        if (definition.outputs) {
          const declared = definition.outputs(definition.configSchema.parse(options.validConfig));
          expect(Object.keys(handle.outputs).sort(), "outputs(config) must name exactly the outputs start returns").toEqual([...declared].sort());
        }
        expect(lc.state).toBe("running");
        expect((await lc.healthCheck()).status).toBe("healthy");
        for (const c of handle.containers) expect((await c.state()).running).toBe(true);

        await lc.stop();
        expect(lc.state).toBe("stopped");
        for (const c of handle.containers) expect((await c.state()).running).toBe(false);
        const left = await be.sweep({ runId });
        expect(left.containers, "containers left after stop").toEqual([]);

        await lc.stop();
        expect(lc.state).toBe("stopped");
      },
      timeout,
    );

    it(
      "a failed start leaves nothing",
      async () => {
        const { backend: be, runId, network } = await setup();
        // The plugin starts its containers for real; then its health check fails, so the start fails.
        const lc = lifecycle(true);
        await expect(
          lc.start({ runId, backend: be, network, baseDir: options.baseDir ?? process.cwd(), log: quiet, dependencies: {}, services: new Map() }),
        ).rejects.toMatchObject({ kind: "health" });
        expect(lc.state).toBe("failed");
        const left = await be.sweep({ runId });
        expect(left.containers, "containers left after a failed start").toEqual([]);
      },
      timeout,
    );

    /** A valid config with `secret` in a secret field. */
    function secretConfig(secret: string): unknown {
      if (options.secretConfig) return options.secretConfig(secret);
      for (const field of definition.secretFields ?? []) {
        const candidate = withPath(options.validConfig, field.split("."), secret);
        if (definition.configSchema.safeParse(candidate).success) return candidate;
      }
      return undefined;
    }

    it.skipIf(!options.secretConfig && !definition.secretFields?.length)(
      "a secret never shows in logs, errors, outputs, labels, command lines or reports",
      async () => {
        const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
        const config = secretConfig(secret);
        expect(config, `no field of secretFields (${definition.secretFields?.join(", ")}) accepts a string in validConfig: pass secretConfig`).toBeDefined();
        expect(definition.configSchema.safeParse(config).success, "secretConfig is not a valid config").toBe(true);
        // Registered as `clnrm run` does, from secretFields: reports redact only what is registered.
        registerSecretFields(definition.secretFields, config);
        expect(redact(secret), "the secret is not in a field listed in secretFields, so reports would show it").toBe(REDACTED);

        const { backend: be, runId, network } = await setup();
        const specs: ContainerSpec[] = [];
        const spy = new Proxy(be, {
          get(target, key) {
            if (key === "run") return (spec: ContainerSpec, o: Parameters<ContainerBackend["run"]>[1]) => (specs.push(spec), target.run(spec, o));
            const v = Reflect.get(target, key) as unknown;
            return typeof v === "function" ? v.bind(target) : v;
          },
        });
        const logged: string[] = [];
        const log: PluginLogger = { progress: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) };
        const clear = (what: string, text: unknown) => expect(typeof text === "string" ? text : JSON.stringify(text) ?? "", `${what} shows the secret`).not.toContain(secret);
        const ctx = { runId, backend: spy, network, baseDir: options.baseDir ?? process.cwd(), log, dependencies: {}, services: new Map() };

        const lc = lifecycle(false, config);
        const handle = await lc.start(ctx);
        try {
          for (const [k, v] of Object.entries(handle.outputs)) clear(`output ${k}${options.secretOutputs?.includes(k) ? ", after redaction," : ""}`, options.secretOutputs?.includes(k) ? redact(String(v)) : String(v));
          clear("the health check", await lc.healthCheck());
          for (const spec of specs) {
            const { env, secretEnv, health, ...rest } = spec;
            // An http probe's headers and bearer token are sent by clnrm from the host and never reach
            // the engine (docker inspect below proves it): they may hold the secret, nothing else may.
            const probe = health?.kind === "http" ? (({ headers: _h, authToken: _t, ...p }) => p)(health) : health;
            clear("the container spec (image, command, entrypoint, labels, aliases, mounts, health probe)", { ...rest, health: probe });
            for (const [k, v] of Object.entries(env ?? {})) if (v.includes(secret)) expect(secretEnv ?? [], `env ${k} holds the secret but is not in secretEnv`).toContain(k);
          }
          const inspected = be.name === "docker" ? await dockerInspect(handle.containers.map((c) => c.id)) : undefined;
          const secretEnv = new Set(specs.flatMap((s) => s.secretEnv ?? []));
          for (const i of inspected ?? []) {
            clear(`docker inspect ${i.Name}: name, command line or labels`, { name: i.Name, path: i.Path, args: i.Args, cmd: i.Config.Cmd, entrypoint: i.Config.Entrypoint, labels: i.Config.Labels });
            for (const e of i.Config.Env ?? []) if (e.includes(secret)) expect([...secretEnv], `docker inspect ${i.Name}: env ${e.split("=")[0]} holds the secret but is not in secretEnv`).toContain(e.split("=")[0]);
          }
          // A step that prints the environment: the report redacts the secret.
          const env = await handle.primary?.exec(["env"]).catch(() => undefined);
          if (env?.exitCode === 0) clear("a step printing the environment, after redaction,", redact(env.stdout + env.stderr));
        } finally {
          await lc.stop();
        }

        // A start that fails after its containers exist: the error says nothing of the secret.
        const failed = await lifecycle(true, config).start(ctx).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(failed).toBeInstanceOf(Error);
        for (let e: unknown = failed; e instanceof Error; e = e.cause) {
          clear("the error", { message: e.message, hint: (e as { hint?: unknown }).hint, format: (e as { format?: () => string }).format?.() });
        }
        clear("the plugin's log lines", logged);
        expect((await be.sweep({ runId })).containers, "containers left").toEqual([]);
      },
      timeout,
    );
  });
}
