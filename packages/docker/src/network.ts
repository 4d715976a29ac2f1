// Taking a run's network down without leaving it behind.
//
// The engine keeps a per-network endpoint count next to its endpoints. When many containers leave a
// network at the same moment (a 200-service run torn down wave by wave, all in parallel), Docker
// 20.10 loses some of the decrements: the network then "has active endpoints" while inspect shows no
// container on it, and no API call can remove it until the engine restarts (moby/moby#42119).
// Reproduced here with 200 busybox containers on one network, removed in parallel.
//
// So a container leaves its run network first, one at a time per network (`leaveNetwork`), and only
// then is removed: the engine never has two endpoint deletions of one network in flight. Removing
// the network (`removeNetwork`) retries while endpoints are still being torn down, force-disconnects
// endpoints whose container is gone (stale endpoints the engine still lists), and says what is left.
import { ContainerError } from "@clnrm/core";
import type Dockerode from "dockerode";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { firstLine, isGone } from "./util.js";

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `serially(key, ...)` call has settled. */
export function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => {});
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

/**
 * Disconnects a container from a network (force: it may be running, stopped or half-removed), in
 * turn with every other disconnect from that network made by this process. A container or network
 * already gone, or a container not on the network, is fine.
 */
export function leaveNetwork(docker: Dockerode, network: string, container: string): Promise<void> {
  return serially(`net:${network}`, async () => {
    try {
      await docker.getNetwork(network).disconnect({ Container: container, Force: true });
    } catch (err) {
      if (isGone(err) || notConnected(err)) return;
      if (engineUnreachable(err)) throw engineWentAway(err);
      throw err;
    }
  });
}

function notConnected(err: unknown): boolean {
  const code = (err as { statusCode?: number } | null)?.statusCode;
  return (code === 403 || code === 500) && /is not connected|not connected to/i.test(firstLine(err));
}

function activeEndpoints(err: unknown): boolean {
  return /has active endpoints/i.test(firstLine(err));
}

export interface RemoveNetworkOptions {
  /** Total time spent retrying a network that still has endpoints (default 10 s). */
  retryMs?: number;
}

/**
 * Removes a network. While the engine says it "has active endpoints", retries with a backoff
 * (50 ms doubling to 1 s, bounded by `retryMs`), force-disconnecting every endpoint the engine
 * still lists on it (their containers are gone or going). A network already gone is fine. Throws a
 * one-line ContainerError naming the network and what is left on it when it cannot be removed.
 */
export async function removeNetwork(docker: Dockerode, id: string, name: string, options: RemoveNetworkOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.retryMs ?? 10_000);
  let delay = 50;
  let empty = 0;
  for (;;) {
    let last: unknown;
    try {
      await serially(`net:${name}`, () => docker.getNetwork(id).remove());
      return;
    } catch (err) {
      if (isGone(err) && !activeEndpoints(err)) return;
      if (engineUnreachable(err)) throw engineWentAway(err);
      if (!activeEndpoints(err)) {
        throw new ContainerError(`cannot remove network '${name}': ${firstLine(err)}`, { hint: "run clnrm gc", cause: err });
      }
      last = err;
    }
    const listed = await endpointsOf(docker, id);
    for (const ep of listed) await leaveNetwork(docker, id, ep).catch(() => {});
    // Nothing listed for five tries in a row (~1.5 s; an endpoint being deleted leaves the list a
    // moment before the count): the engine's count is wrong, and waiting longer won't fix it.
    empty = listed.length ? 0 : empty + 1;
    if (Date.now() + delay > deadline || empty >= 5) {
      const left = await endpointsOf(docker, id);
      const what = left.length
        ? `${left.length} endpoint(s) still on it (${left.slice(0, 5).join(", ")}${left.length > 5 ? ", ..." : ""})`
        : "the engine counts endpoints on it that no container has (a Docker bug, moby/moby#42119)";
      throw new ContainerError(`cannot remove network '${name}': ${what}`, {
        // Without endpoints, only an engine restart can fix it: the machine's state, not clnrm's leak.
        environment: left.length === 0,
        hint: left.length
          ? "remove those containers, then run clnrm gc"
          : "restart the Docker engine (it recounts endpoints when it starts), then run clnrm gc",
        cause: last,
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1_000);
  }
}

/** Names (or ids) of the endpoints the engine lists on a network; [] if it is gone or cannot say. */
async function endpointsOf(docker: Dockerode, id: string): Promise<string[]> {
  try {
    const info = (await docker.getNetwork(id).inspect()) as { Containers?: Record<string, { Name?: string }> };
    return Object.entries(info.Containers ?? {}).map(([key, c]) => c.Name || key);
  } catch {
    return [];
  }
}
