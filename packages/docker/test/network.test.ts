// removeNetwork's retry and its report, against a stand-in engine: the state it handles (the engine
// counting endpoints no container has, moby/moby#42119) comes from a race inside dockerd and can't
// be produced on demand, so these fakes answer as Docker 20.10 does in that state. The real engine
// is exercised in leaks.int.test.ts.
import type Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { EngineGoneError, removeNetwork } from "../src/index.js";

function activeEndpoints(): Error {
  return Object.assign(new Error("(HTTP code 403) unexpected - error while removing network: network clnrm-x id abc has active endpoints"), {
    statusCode: 403,
  });
}

/** `sticky`: the listed endpoints come back after every disconnect (something keeps reconnecting). */
function fakeEngine(opts: { failures: number; containers?: Record<string, { Name: string }>; sticky?: boolean }) {
  const calls = { remove: 0, disconnect: [] as string[] };
  const docker = {
    getNetwork: () => ({
      remove: async () => {
        calls.remove++;
        if (calls.remove <= opts.failures) throw activeEndpoints();
      },
      inspect: async () => ({ Containers: calls.disconnect.length && !opts.sticky ? {} : (opts.containers ?? {}) }),
      disconnect: async ({ Container }: { Container: string }) => {
        calls.disconnect.push(Container);
      },
    }),
  } as unknown as Dockerode;
  return { docker, calls };
}

describe("removeNetwork", () => {
  it("retries while the network still has endpoints, then succeeds", async () => {
    const { docker, calls } = fakeEngine({ failures: 3 });
    await removeNetwork(docker, "abc", "clnrm-x", { retryMs: 5_000 });
    expect(calls.remove).toBe(4);
  });

  it("force-disconnects the endpoints the engine lists", async () => {
    const { docker, calls } = fakeEngine({ failures: 1, containers: { "ep-1": { Name: "clnrm-x-a" }, "ep-2": { Name: "" } } });
    await removeNetwork(docker, "abc", "clnrm-x", { retryMs: 5_000 });
    expect(calls.disconnect).toEqual(["clnrm-x-a", "ep-2"]);
  });

  it("gives up within its bound and says why in one line while endpoints are still listed", async () => {
    const { docker, calls } = fakeEngine({ failures: Number.POSITIVE_INFINITY, containers: { "ep-1": { Name: "clnrm-x-a" } }, sticky: true });
    const t0 = Date.now();
    const err = (await removeNetwork(docker, "abc", "clnrm-x", { retryMs: 1_000 }).catch((e: unknown) => e)) as Error & { environment?: boolean };
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(calls.remove).toBeGreaterThan(3);
    expect(err.message).toBe("cannot remove network 'clnrm-x': 1 endpoint(s) still on it (clnrm-x-a)");
    expect(err.environment).toBe(false); // gc may finish it later
  });

  it("stops early and says why in one line when the engine counts endpoints nobody has", async () => {
    const { docker, calls } = fakeEngine({ failures: Number.POSITIVE_INFINITY });
    const t0 = Date.now();
    const err = (await removeNetwork(docker, "abc", "clnrm-x", { retryMs: 30_000 }).catch((e: unknown) => e)) as Error & {
      hint?: string;
      environment?: boolean;
    };
    expect(Date.now() - t0).toBeLessThan(3_000); // not the 30 s bound: waiting can't fix it
    expect(calls.remove).toBe(5);
    expect(err.environment).toBe(true); // the engine's state: only its restart clears it
    expect(err.message).toBe("cannot remove network 'clnrm-x': the engine counts endpoints on it that no container has (a Docker bug, moby/moby#42119)");
    expect(err.hint).toMatch(/restart the Docker engine/);
    expect(err.message).not.toContain("\n");
  });

  it("an engine that stops answering is an EngineGoneError, not a retry", async () => {
    const docker = {
      getNetwork: () => ({
        remove: async () => {
          throw Object.assign(new Error("connect ECONNREFUSED /tmp/gone.sock"), { code: "ECONNREFUSED", syscall: "connect" });
        },
      }),
    } as unknown as Dockerode;
    const err = await removeNetwork(docker, "abc", "clnrm-x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineGoneError);
    expect((err as EngineGoneError).code).toBe("CLNRM_ERR_ENGINE_GONE");
    expect((err as Error).message).toBe(
      "the Docker engine went away during the run: connect ECONNREFUSED /tmp/gone.sock; run `clnrm gc` when it is back",
    );
  });
});
