// The orphan sweep (`clnrm gc`): what clnrm labelled and no live run owns, removed in order
// (containers leave their networks first, then networks, then volumes), and the runs it leaves alone.
import { hostname } from "node:os";
import { ContainerError, LABELS, type SweepOptions, type SweepReport } from "@clnrm/core";
import type Dockerode from "dockerode";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { VOLUME_LABEL } from "./labels.js";
import { leaveNetwork, removeNetwork } from "./network.js";
import { firstLine, isGone } from "./util.js";

/** What `sweep` removed, and one line for each thing it could not remove (with what to do). */
export interface DockerSweepReport extends SweepReport {
  /** Could not be removed now; another gc may. */
  failed: string[];
  /** Only an engine restart lets these go (the engine's own bookkeeping is wrong, e.g. moby/moby#42119). */
  stuck: string[];
}

/** A run whose resources `sweep` leaves alone unless `all`: its process is alive, or on another host. */
export interface LiveRun {
  runId: string;
  pid: number | undefined;
  host: string | undefined;
  containers: string[];
  networks: string[];
  volumes: string[];
}

/**
 * Removes what clnrm labelled: by default what runs that died on this host left (their process is
 * gone); `runId`: that run's; `all`: everything, live runs' too. Containers leave their networks
 * one at a time first (see network.ts), then networks go, with retries; what can't be removed is
 * in `failed`, one line each.
 */
export async function sweep(docker: Dockerode, options: SweepOptions = {}, volumeRemoved: (name: string) => void = () => {}): Promise<DockerSweepReport> {
  const filter = [`${LABELS.managed}=true`, ...(options.runId ? [`${LABELS.run}=${options.runId}`] : [])];
  const filters = JSON.stringify({ label: filter });
  const host = hostname();
  const selected = (labels: Record<string, string> | undefined) => {
    if (options.runId || options.all) return true;
    return labels?.[LABELS.host] === host && !pidAlive(Number(labels[LABELS.pid]));
  };
  const report: DockerSweepReport = { containers: [], networks: [], volumes: [], failed: [], stuck: [] };
  const engine = (err: unknown) => {
    if (engineUnreachable(err)) throw engineWentAway(err);
  };

  const containers = (await docker.listContainers({ all: true, filters }).catch(rethrowEngine)).filter((c) => selected(c.Labels));
  await Promise.all(
    containers.map(async (c) => {
      const name = c.Names[0]?.replace(/^\//, "") ?? c.Id;
      try {
        for (const net of Object.keys(c.NetworkSettings?.Networks ?? {})) {
          if (!BUILTIN_NETWORKS.has(net)) await leaveNetwork(docker, net, c.Id).catch(() => {});
        }
        await docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch (err) {
        engine(err);
        if (!isGone(err)) {
          report.failed.push(`cannot remove container '${name}': ${firstLine(err)}`);
          return;
        }
      }
      report.containers.push(name);
    }),
  );
  const networks = (await docker.listNetworks({ filters }).catch(rethrowEngine)).filter((n) => selected(n.Labels));
  await Promise.all(
    networks.map(async (n) => {
      try {
        await removeNetwork(docker, n.Id, n.Name, { retryMs: 5_000 });
      } catch (err) {
        engine(err);
        if (err instanceof ContainerError) (err.environment ? report.stuck : report.failed).push(err.format());
        else report.failed.push(`cannot remove network '${n.Name}': ${firstLine(err)}`);
        return;
      }
      report.networks.push(n.Name);
    }),
  );
  {
    // After the containers above are gone. A volume some container still uses cannot be removed
    // (the engine refuses), so it stays. Kept volumes (model caches) go only with `all`. Without
    // `volumes`, only run-scoped volumes (which belong to their run as its containers do) go.
    const { Volumes } = await docker.listVolumes({ filters }).catch(rethrowEngine);
    const doomed = (Volumes ?? []).filter((v) => {
      if (v.Labels?.[LABELS.keep] === "true") return options.all === true && options.volumes === true;
      if (!options.volumes && v.Labels?.[VOLUME_LABEL] === undefined) return false;
      return options.runId || options.all || ownerGone(v.Labels, host);
    });
    await Promise.all(
      doomed.map(async (v) => {
        try {
          await docker.getVolume(v.Name).remove();
        } catch (err) {
          engine(err);
          if (!isGone(err)) {
            report.failed.push(`cannot remove volume '${v.Name}': ${firstLine(err)}`);
            return;
          }
          if ((err as { statusCode?: number }).statusCode === 409) return; // in use by a container of a live run
        }
        report.volumes.push(v.Name);
        volumeRemoved(v.Name);
      }),
    );
  }
  return report;
}

/**
 * Runs with resources that a plain `sweep` leaves alone: their process is alive on this host, or
 * they were made from another host (whose processes can't be checked from here).
 */

/**
 * Runs with resources that a plain `sweep` leaves alone: their process is alive on this host, or
 * they were made from another host (whose processes can't be checked from here).
 */
export async function liveRuns(docker: Dockerode): Promise<LiveRun[]> {
  const filters = JSON.stringify({ label: [`${LABELS.managed}=true`] });
  const host = hostname();
  const runs = new Map<string, LiveRun>();
  const add = (labels: Record<string, string> | undefined, kind: "containers" | "networks" | "volumes", name: string) => {
    const runId = labels?.[LABELS.run];
    if (!runId || labels[LABELS.keep] === "true") return;
    const pid = Number(labels[LABELS.pid]);
    const h = labels[LABELS.host];
    if (h === host && !pidAlive(pid)) return;
    if (!labels[LABELS.pid] && kind === "volumes") return; // no owner: a plain sweep removes it
    let r = runs.get(runId);
    if (!r) {
      r = { runId, pid: Number.isInteger(pid) && pid > 0 ? pid : undefined, host: h, containers: [], networks: [], volumes: [] };
      runs.set(runId, r);
    }
    r[kind].push(name);
  };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]).catch(rethrowEngine);
  for (const c of containers) add(c.Labels, "containers", c.Names[0]?.replace(/^\//, "") ?? c.Id);
  for (const n of networks) add(n.Labels, "networks", n.Name);
  for (const v of volumes.Volumes ?? []) add(v.Labels ?? undefined, "volumes", v.Name);
  return [...runs.values()];
}

/** Networks every engine has; a container's endpoint on them is not clnrm's to remove. */
const BUILTIN_NETWORKS = new Set(["bridge", "host", "none"]);

function rethrowEngine(err: unknown): never {
  if (engineUnreachable(err)) throw engineWentAway(err);
  throw err;
}

/** A volume's creating process is gone (or unknown: volumes created before they carried run labels). */
function ownerGone(labels: Record<string, string> | undefined, host: string): boolean {
  if (!labels?.[LABELS.pid]) return true;
  return labels[LABELS.host] === host && !pidAlive(Number(labels[LABELS.pid]));
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
