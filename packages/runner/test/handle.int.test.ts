import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, type ServiceHandle, type StartContext, z } from "@clnrm/core";
import { dockerBackend } from "@clnrm/docker";
import { afterAll, describe, expect, it } from "vitest";
import { planTest, type PluginResolver, runTest } from "../src/index.js";

// Core checks the handle every plugin start returns, against the real engine: a handle that breaks
// the contract fails the start naming the plugin, and a step that names a service never runs on the
// host (the step here would create a marker file in the test file's directory if it did).
const dir = mkdtempSync(join(tmpdir(), "clnrm-handle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const backend = dockerBackend();

type Shape = (ctx: StartContext, container: Awaited<ReturnType<StartContext["backend"]["run"]>> | undefined) => unknown;

function pluginWith(shape: Shape, withContainer = true) {
  return definePlugin({
    type: "odd_handle",
    description: "test plugin: returns a handle of a given shape",
    configSchema: z.strictObject({}),
    create: () => ({
      async start(ctx) {
        const c = withContainer
          ? await ctx.backend.run({ image: "alpine:latest", keepAlive: true }, { runId: ctx.runId, service: ctx.service, ...(ctx.network ? { network: ctx.network } : {}) })
          : undefined;
        return shape(ctx, c) as ServiceHandle;
      },
      async healthCheck() {
        return { status: "healthy" as const };
      },
      async stop(h) {
        await Promise.all(h.containers.map((c) => c.remove({ timeoutMs: 0 })));
      },
    }),
  });
}

async function run(shape: Shape, withContainer = true) {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.clnrm.toml`);
  const marker = join(dir, "ran-on-host");
  writeFileSync(file, `[meta]\nname = "odd handle"\n\n[services.svc]\ntype = "odd_handle"\n\n[[steps]]\nname = "touch"\nservice = "svc"\ncommand = ["sh", "-c", "touch ${marker}"]\n`);
  const definition = pluginWith(shape, withContainer);
  const resolver: PluginResolver = { resolve: async () => ({ definition, package: "inline", version: undefined }) };
  const plan = await planTest(file, resolver);
  const result = await runTest(plan, { backend });
  const left = execFileSync("docker", ["ps", "-aq", "--filter", `label=clnrm.run=${result.runId}`], { encoding: "utf8" }).trim();
  return { result, ranOnHost: existsSync(marker), left };
}

describe("plugin handle contract (real engine)", () => {
  it("a handle with a container but no primary fails the start, naming the plugin; the step never runs on the host", async () => {
    const { result, ranOnHost, left } = await run((ctx, c) => ({ service: ctx.service, containers: [c], outputs: {} }));
    expect(ranOnHost).toBe(false);
    expect(left).toBe("");
    expect(result.status).toBe("error");
    expect(result.error?.message).toMatch(/plugin 'odd_handle' returned an invalid handle for service 'svc': handle\.primary is missing/);
  }, 60_000);

  it("a service without any container: a step that names it fails with a clear error, not on the host", async () => {
    const { result, ranOnHost, left } = await run((ctx) => ({ service: ctx.service, containers: [], outputs: { url: "x" } }), false);
    expect(ranOnHost).toBe(false);
    expect(left).toBe("");
    expect(result.status).toBe("failed");
    expect(result.steps[0]?.failure).toBe("service 'svc' has no container to exec in");
  }, 60_000);

  it.each<[string, Shape, RegExp]>([
    ["a primary that is not one of its containers", (ctx, c) => ({ service: ctx.service, primary: { ...c! }, containers: [c], outputs: {} }), /handle\.primary is not one of handle\.containers/],
    ["a non-scalar output", (ctx, c) => ({ service: ctx.service, primary: c, containers: [c], outputs: { conn: { host: "x" } } }), /output 'conn' is object/],
    ["another service's name", (_ctx, c) => ({ service: "other", primary: c, containers: [c], outputs: {} }), /handle\.service is "other", expected "svc"/],
    ["no handle at all", () => undefined, /start resolved to undefined/],
  ])("%s fails the start and leaves nothing", async (_name, shape, message) => {
    const { result, ranOnHost, left } = await run(shape);
    expect(ranOnHost).toBe(false);
    expect(left).toBe("");
    expect(result.status).toBe("error");
    expect(result.error?.message).toMatch(message);
  }, 60_000);
});
