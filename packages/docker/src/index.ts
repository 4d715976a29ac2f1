// First: defers testcontainers' optional dependencies (see lazy-deps.ts) before it is loaded.
import "./lazy-deps.js";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type ContainerBackend,
  ContainerError,
  ContainerExitedError,
  type ContainerSpec,
  type ContainerState,
  type EngineCapabilities,
  type ExecOptions,
  type ExecResult,
  LABELS,
  type NetworkHandle,
  type RunContainerOptions,
  type RunningContainer,
  type SweepOptions,
  type SweepReport,
  TimeoutError,
  UserRegex,
  fmtMs,
  untilAborted,
} from "@clnrm/core";
import Dockerode from "dockerode";
import { type ContainerRuntimeClient, GenericContainer, ImageName, type StartedTestContainer, getContainerRuntimeClient } from "testcontainers";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { leaveNetwork, removeNetwork } from "./network.js";
import { containerGone, demux, execIn, firstLine, isGone, tcpOpen } from "./util.js";
import { Tracked, describeProbe, exitBeforeReady, exitedWith, probeHint, waitFor } from "./wait.js";

export { demux, execIn, tcpOpen } from "./util.js";
export { EngineGoneError, engineUnreachable } from "./engine.js";
export { removeNetwork } from "./network.js";

/** A named volume clnrm made for one run: `name` scoped to the run, unless the mount is kept (clnrm.keep=true). */
export function runVolumeName(runId: string, name: string): string {
  return `clnrm-${runId}-${name}`;
}

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
/** Optional testcontainers dependencies not loaded yet (see lazy-deps.ts). */
export { deferredModules } from "./lazy-deps.js";

const DEFAULT_SOCKET = "unix:///var/run/docker.sock";
const PING_TIMEOUT_MS = 3_000;
const DEFAULT_STARTUP_MS = 60_000;
/** On a run-scoped volume: the volume's name as the test file wrote it. */
const VOLUME_LABEL = "clnrm.volume";
const SHELLS = new Set(["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash", "/usr/bin/bash"]);

/** PID 1 that idles until stopped and exits at once on SIGTERM/SIGINT. */
export const KEEP_ALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

/** The labels clnrm puts on every container of a run (network and volume labels are a subset). */
export function labelsFor(runId: string, service?: string): Record<string, string> {
  return {
    [LABELS.managed]: "true",
    [LABELS.run]: runId,
    ...(service === undefined ? {} : { [LABELS.service]: service }),
    [LABELS.pid]: String(process.pid),
    [LABELS.host]: hostname(),
  };
}

export interface DockerBackendOptions {
  /**
   * Docker engine address (unix:///..., tcp://host:2375). testcontainers keeps one engine client per
   * process, configured from DOCKER_HOST / ~/.testcontainers.properties; when given and DOCKER_HOST is
   * unset, this sets DOCKER_HOST before the client is first created.
   */
  host?: string;
}

/**
 * GenericContainer with access to the raw create options, for what testcontainers 11 has no builder
 * method for: HostConfig.Init, HostConfig.DeviceRequests (GPUs), HostConfig.Mounts (named volumes),
 * and NetworkingConfig (aliases at create time: one call instead of create + connect, and no
 * attachment to the default bridge).
 */
class SpecContainer extends GenericContainer {
  #signal: AbortSignal | undefined;
  /** Set once the create request is sent: from then on, a cancelled start must wait for it and remove what it made. */
  createIssued = false;

  patch(fn: (create: Dockerode.ContainerCreateOptions, host: Dockerode.HostConfig) => void): this {
    fn(this.createOpts, this.hostConfig);
    return this;
  }

  /** Cancels the start (before the create goes out, or right after it returned) once `signal` aborts. */
  withSignal(signal: AbortSignal | undefined): this {
    this.#signal = signal;
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    this.#signal?.throwIfAborted();
    this.createIssued = true;
  }

  protected override async containerCreated(): Promise<void> {
    this.#signal?.throwIfAborted();
  }
}

/** Never pull if the image is there; our own cached inspect decides beforehand. */
const PULL_IF_MISSING = { shouldPull: () => false };

export class DockerBackend implements ContainerBackend {
  readonly name = "docker";
  readonly #host: string | undefined;
  readonly #images = new Map<string, Promise<Dockerode.ImageInspectInfo>>();
  readonly #volumes = new Map<string, Promise<void>>();
  #capabilities: Promise<EngineCapabilities> | undefined;

  constructor(options: DockerBackendOptions = {}) {
    this.#host = options.host;
  }

  /** Where the engine is expected, for messages. */
  get address(): string {
    return this.#host ?? process.env.DOCKER_HOST ?? DEFAULT_SOCKET;
  }

  async #client(): Promise<ContainerRuntimeClient> {
    if (this.#host && !process.env.DOCKER_HOST) process.env.DOCKER_HOST = this.#host;
    return getContainerRuntimeClient();
  }

  /** The dockerode instance testcontainers uses (same engine, same options). Used for inspect, exec, logs, remove, networks, volumes, sweep. */
  async #docker(): Promise<Dockerode> {
    return (await this.#client()).container.dockerode;
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), PING_TIMEOUT_MS);
    });
    try {
      // testcontainers falls back to the default socket when DOCKER_HOST does not answer, so an
      // explicitly configured engine is pinged directly.
      const explicit = this.#host ?? process.env.DOCKER_HOST;
      const docker = explicit ? new Dockerode(dockerodeOptions(explicit)) : await this.#docker();
      await Promise.race([docker.ping(), deadline]);
    } catch (err) {
      throw new ContainerError(`cannot reach the Docker engine at ${this.address}`, {
        hint: "start it (sudo systemctl start docker, or dockerd &) or set DOCKER_HOST",
        environment: true,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** GPU support, runtimes, memory and CPUs from `docker info`; asked once per backend instance. */
  capabilities(): Promise<EngineCapabilities> {
    if (!this.#capabilities) {
      const p = (async () => {
        const info = (await (await this.#docker()).info()) as { Runtimes?: Record<string, unknown>; MemTotal?: number; NCPU?: number };
        const runtimes = Object.keys(info.Runtimes ?? {}).sort();
        return { gpu: runtimes.includes("nvidia"), runtimes, memoryBytes: info.MemTotal ?? 0, cpus: info.NCPU ?? 0 };
      })().catch((err: unknown) => {
        this.#capabilities = undefined;
        throw new ContainerError(`cannot read the Docker engine's capabilities: ${firstLine(err)}`, {
          hint: "check that the engine answers `docker info`",
          cause: err,
        });
      });
      this.#capabilities = p;
    }
    return this.#capabilities;
  }

  async createNetwork(runId: string): Promise<NetworkHandle> {
    const docker = await this.#docker();
    const name = `clnrm-${runId}`;
    let net: Dockerode.Network;
    try {
      net = await docker.createNetwork({ Name: name, Driver: "bridge", CheckDuplicate: true, Labels: labelsFor(runId) });
    } catch (err) {
      if (engineUnreachable(err)) throw engineWentAway(err);
      throw new ContainerError(`cannot create network '${name}': ${firstLine(err)}`, {
        hint: "a network of that name may be left over; run clnrm gc",
        cause: err,
      });
    }
    let removed: Promise<void> | undefined;
    return {
      id: net.id,
      name,
      remove: () => {
        removed ??= removeNetwork(docker, net.id, name).catch((err: unknown) => {
          removed = undefined;
          throw err;
        });
        return removed;
      },
    };
  }

  /** Image inspect, cached per image for the process. Pulls once if missing; throws a one-line error if that fails. */
  #image(client: ContainerRuntimeClient, image: string): Promise<Dockerode.ImageInspectInfo> {
    let p = this.#images.get(image);
    if (!p) {
      p = (async () => {
        const docker = client.container.dockerode;
        try {
          return await docker.getImage(image).inspect();
        } catch (err) {
          if (engineUnreachable(err)) throw engineWentAway(err);
          if (!isGone(err)) throw err;
        }
        try {
          await client.image.pull(ImageName.fromString(image), { force: true, platform: undefined });
          return await docker.getImage(image).inspect();
        } catch (err) {
          throw new ContainerError(`image '${image}' not found locally and could not be pulled: ${firstLine(err)}`, {
            hint: "build it, or check the name",
            environment: true,
            cause: err,
          });
        }
      })();
      p.catch(() => this.#images.delete(image));
      this.#images.set(image, p);
    }
    return p;
  }

  /** Creates a missing named volume, labelled with the creating run (for `sweep`) and the spec's labels (e.g. clnrm.keep). */
  #volume(docker: Dockerode, name: string, labels: Record<string, string> | undefined, runId: string): Promise<void> {
    let p = this.#volumes.get(name);
    if (!p) {
      p = (async () => {
        try {
          await docker.getVolume(name).inspect();
        } catch (err) {
          if (!isGone(err)) throw err;
          await docker.createVolume({ Name: name, Labels: { ...labels, ...labelsFor(runId) } });
        }
      })();
      p.catch(() => this.#volumes.delete(name));
      this.#volumes.set(name, p);
    }
    return p;
  }

  async run(spec: ContainerSpec, options: RunContainerOptions): Promise<RunningContainer> {
    const { runId, service, network, signal } = options;
    const fail = (what: string, err: unknown) =>
      new ContainerError(`service '${service}': ${what}: ${firstLine(err)}`, { service, cause: err });
    if (signal?.aborted) throw new ContainerError(`service '${service}': start was cancelled`, { service });
    if (spec.networkOf && spec.ports?.length) {
      throw new ContainerError(`service '${service}': a container sharing another's network (networkOf) cannot publish ports`, {
        service,
        hint: "publish the ports on the container whose network it shares",
      });
    }
    const cancelled = () => new ContainerError(`service '${service}': start was cancelled`, { service });
    const client = await this.#client();
    const docker = client.container.dockerode;
    // Abortable: a slow inspect (or pull) goes on in the background, cached, but nothing gets created.
    const image = await untilAborted(this.#image(client, spec.image), signal, cancelled);

    const safe = service.replace(/[^a-zA-Z0-9_.-]/g, "_");
    const name = `clnrm-${runId}-${safe}-${randomBytes(3).toString("hex")}`;
    const c = new SpecContainer(spec.image).withName(name).withAutoCleanup(false).withPullPolicy(PULL_IF_MISSING).withSignal(signal);

    if (spec.env) c.withEnvironment(spec.env);
    const ports = [...(spec.ports ?? [])];
    const probe = spec.health;
    if (!spec.networkOf && probe && (probe.kind === "http" || probe.kind === "tcp") && !ports.some((p) => p.container === probe.port)) {
      ports.push({ container: probe.port });
    }
    if (ports.length) {
      c.withExposedPorts(
        ...ports.map((p) =>
          p.host === undefined
            ? { container: p.container, host: 0, protocol: p.protocol ?? "tcp" }
            : { container: p.container, host: p.host, protocol: p.protocol ?? "tcp" },
        ),
      );
      // host: 0 means "any" to Docker; testcontainers writes it as HostPort "0".
    }
    const binds = spec.mounts?.filter((m) => m.type === "bind") ?? [];
    if (binds.length) c.withBindMounts(binds.map((m) => ({ source: m.source, target: m.target, mode: m.readOnly ? "ro" : "rw" })));
    const tmpfs: Record<string, string> = {};
    for (const m of spec.mounts ?? []) if (m.type === "tmpfs") tmpfs[m.target] = m.sizeMb ? `rw,size=${m.sizeMb}m` : "rw";
    if (Object.keys(tmpfs).length) c.withTmpFs(tmpfs);
    // A named volume belongs to its run (nothing leaks between tests): the engine's volume is named
    // after the run and removed with the run's last container. Kept volumes (clnrm.keep=true: model
    // caches, or a volume the test file marks kept) are used under their own name and outlive it.
    const volumes = (spec.mounts ?? []).flatMap((m) => {
      if (m.type !== "volume") return [];
      if (m.labels?.[LABELS.keep] === "true") return [{ ...m, scoped: false }];
      return [{ ...m, name: runVolumeName(runId, m.name), labels: { ...m.labels, [VOLUME_LABEL]: m.name }, scoped: true }];
    });
    await untilAborted(Promise.all(volumes.map((v) => this.#volume(docker, v.name, v.labels, runId))), signal, cancelled);

    const keep = spec.keepAlive === true || (spec.keepAlive === "auto" && isBareShell(spec, image));
    if (keep) {
      c.withEntrypoint(spec.entrypoint ?? [KEEP_ALIVE[0]!]).withCommand(spec.entrypoint ? KEEP_ALIVE : KEEP_ALIVE.slice(1));
    } else {
      if (spec.entrypoint) c.withEntrypoint(spec.entrypoint);
      if (spec.command) c.withCommand(spec.command);
    }
    if (spec.workdir) c.withWorkingDir(spec.workdir);
    if (spec.user) c.withUser(spec.user);
    const r = spec.resources;
    if (r?.memoryMb !== undefined || r?.cpus !== undefined) {
      c.withResourcesQuota({
        ...(r.memoryMb === undefined ? {} : { memory: r.memoryMb / 1024 }),
        ...(r.cpus === undefined ? {} : { cpu: r.cpus }),
      });
    }
    if (r?.shmSizeMb) c.withSharedMemorySize(r.shmSizeMb * 1024 * 1024);
    if (spec.privileged) c.withPrivilegedMode();
    if (spec.capAdd?.length) c.withAddedCapabilities(...spec.capAdd);
    c.withLabels({ ...spec.labels, ...labelsFor(runId, service), [LABELS.startedAt]: new Date().toISOString() });

    if (spec.networkOf) {
      c.withNetworkMode(`container:${spec.networkOf}`);
    } else if (network) {
      c.withNetworkMode(network.name);
    }
    c.patch((create, host) => {
      if (spec.init) host.Init = true;
      if (volumes.length) {
        host.Mounts = volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target, ReadOnly: !!v.readOnly }));
      }
      if (spec.gpus) {
        const g = spec.gpus;
        host.DeviceRequests = [
          { Driver: g.driver ?? "nvidia", Count: g.count === "all" ? -1 : g.count, Capabilities: [g.capabilities ?? ["gpu"]] },
        ];
      }
      if (network && !spec.networkOf) {
        const aliases = [...new Set([service, ...(spec.aliases ?? [])])];
        create.NetworkingConfig = { EndpointsConfig: { [network.name]: { Aliases: aliases } } };
      } else if (!spec.networkOf && /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(service)) {
        // Without a run network, the service still resolves its own name (Docker puts the hostname in /etc/hosts).
        create.Hostname = service;
      }
    });

    const timeoutMs = probe?.timeoutMs ?? options.startupTimeoutMs ?? DEFAULT_STARTUP_MS;
    const wait = new Tracked(waitFor(probe, client.info.containerRuntime.host, timeoutMs));
    c.withWaitStrategy(wait).withStartupTimeout(timeoutMs);

    let started: StartedTestContainer;
    const starting = c.start();
    // Raced against the container's exit: a command that exits before it is ready (a one-shot, or a
    // crash) is reported at once, not after testcontainers' wait for ports that never get bound.
    // (Not once the wait has failed: testcontainers then stops the container itself.)
    const exit = exitBeforeReady(docker.getContainer(name), () => c.createIssued && !wait.failed, starting);
    try {
      started = await untilAborted(Promise.race([starting, exit]), signal);
    } catch (err) {
      if (signal?.aborted) {
        // Cancelled (SIGINT, test timeout) while testcontainers waits for ports or health: remove the
        // container now, which also ends that wait, instead of waiting for the health check to pass.
        // Before the create went out, the start stops itself there; after, it is waited for (removed as
        // soon as it exists) so that a create the engine is still working on can't leave a container.
        if (c.createIssued) await removeWhenCreated(docker.getContainer(name), starting);
        throw new ContainerError(`service '${service}': start was cancelled`, { service, cause: err });
      }
      if (engineUnreachable(err)) throw engineWentAway(err);
      // A container that exited at once makes testcontainers time out waiting for its ports: say it exited.
      // The wait strategy looked first when it saw the exit (testcontainers removes such a container).
      const exited = wait.exited ?? (await exitedWith(docker.getContainer(name)));
      // testcontainers removes a container that failed its wait, but not one that failed to start.
      await docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => {});
      if (exited) {
        const message = `service '${service}': container exited with code ${exited.code} before it was ready${exited.last ? `: ${exited.last}` : ""}`;
        throw new ContainerExitedError(message, exited.code, exited.tail, {
          service,
          hint: "check the container's command and logs",
          cause: err,
        });
      }
      if (!probe || !wait.failed) throw fail("cannot start container", err);
      if (/exited|ended/i.test(firstLine(err))) {
        throw new ContainerError(`service '${service}': container exited before health check ${describeProbe(probe)} passed`, {
          service,
          hint: "check the container's command and logs",
          cause: err,
        });
      }
      throw new TimeoutError(`service '${service}': health check ${describeProbe(probe)} not ready after ${fmtMs(timeoutMs)}`, timeoutMs, {
        service,
        hint: probeHint(probe),
        cause: err,
      });
    }
    const scoped = volumes.filter((v) => v.scoped).map((v) => v.name);
    const container = new DockerContainer(docker, started, spec, network?.name, ports, spec.networkOf ? undefined : network?.name, scoped, (v) =>
      this.#volumes.delete(v),
    );
    if (signal?.aborted) {
      await container.remove();
      throw new ContainerError(`service '${service}': start was cancelled`, { service });
    }
    return container;
  }

  /**
   * Removes what clnrm labelled: by default what runs that died on this host left (their process is
   * gone); `runId`: that run's; `all`: everything, live runs' too. Containers leave their networks
   * one at a time first (see network.ts), then networks go, with retries; what can't be removed is
   * in `failed`, one line each.
   */
  async sweep(options: SweepOptions = {}): Promise<DockerSweepReport> {
    const docker = await this.#docker();
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
          this.#volumes.delete(v.Name);
        }),
      );
    }
    return report;
  }

  /**
   * Runs with resources that a plain `sweep` leaves alone: their process is alive on this host, or
   * they were made from another host (whose processes can't be checked from here).
   */
  async liveRuns(): Promise<LiveRun[]> {
    const docker = await this.#docker();
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

}

/** How long an exec that ended with 137 waits to see whether the engine is going away. */
const ENGINE_GONE_WAIT_MS = 2_000;

/** How long a cancelled start waits for a create request the engine has not answered yet. */
const CREATE_SETTLE_MS = 30_000;

/**
 * Removes a container whose start was abandoned after its create went out. It may not exist yet
 * (create still in flight): retry until it does or the start settles (a settled start has created
 * or removed it), bounded by CREATE_SETTLE_MS.
 */
async function removeWhenCreated(c: Dockerode.Container, starting: Promise<unknown>): Promise<void> {
  let settled = false;
  starting.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const deadline = Date.now() + CREATE_SETTLE_MS;
  for (;;) {
    const wasSettled = settled;
    try {
      await c.remove({ force: true, v: true });
      return;
    } catch (err) {
      if (!isGone(err) && !/removal .* in progress/i.test(firstLine(err))) return;
      if (wasSettled || Date.now() > deadline) {
        // A start that succeeded after all left a running container: remove it too.
        await c.remove({ force: true, v: true }).catch(() => {});
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function dockerodeOptions(address: string): Dockerode.DockerOptions {
  const url = new URL(address);
  if (url.protocol === "unix:" || url.protocol === "npipe:") return { socketPath: url.pathname };
  const tls = process.env.DOCKER_TLS_VERIFY === "1" || url.protocol === "https:";
  return { host: url.hostname, port: url.port || (tls ? 2376 : 2375), protocol: tls ? "https" : "http" };
}

function isBareShell(spec: ContainerSpec, image: Dockerode.ImageInspectInfo): boolean {
  const entrypoint = spec.entrypoint ?? image.Config.Entrypoint ?? [];
  const cmd = spec.command ?? image.Config.Cmd ?? [];
  const ep = typeof entrypoint === "string" ? [entrypoint] : entrypoint;
  return ep.filter((s) => s !== "").length === 0 && cmd.length === 1 && SHELLS.has(cmd[0]!);
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

/** Turns an engine error into a one-line ContainerError naming what was attempted. */
function wrapEngine(what: string): (err: unknown) => never {
  return (err: unknown) => {
    throw new ContainerError(`cannot ${what}: ${firstLine(err)}`, { cause: err });
  };
}

class DockerContainer implements RunningContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly host: string;
  readonly networkIp: string | undefined;
  readonly ports: Readonly<Record<number, number>>;
  readonly #c: Dockerode.Container;
  readonly #spec: ContainerSpec;
  readonly #docker: Dockerode;
  readonly #leave: string | undefined;
  readonly #scopedVolumes: readonly string[];
  readonly #volumeRemoved: (name: string) => void;
  #removed: Promise<void> | undefined;

  constructor(
    docker: Dockerode,
    started: StartedTestContainer,
    spec: ContainerSpec,
    networkName: string | undefined,
    ports: ContainerSpec["ports"] & object,
    /** The run network this container has an endpoint on: left (serially) before the container is removed. */
    leave?: string,
    /** Run-scoped volumes it mounts: removed after it, unless another container still uses them. */
    scopedVolumes: readonly string[] = [],
    volumeRemoved: (name: string) => void = () => {},
  ) {
    this.id = started.getId();
    this.name = started.getName().replace(/^\//, "");
    this.image = spec.image;
    this.host = started.getHost();
    this.networkIp = networkName ? started.getIpAddress(networkName) || undefined : undefined;
    const map: Record<number, number> = {};
    for (const p of ports) map[p.container] = started.getMappedPort(p.container, p.protocol ?? "tcp");
    this.ports = Object.freeze(map);
    this.#c = docker.getContainer(this.id);
    this.#spec = spec;
    this.#docker = docker;
    this.#leave = leave;
    this.#scopedVolumes = scopedVolumes;
    this.#volumeRemoved = volumeRemoved;
  }

  mappedPort(containerPort: number): number {
    const p = this.ports[containerPort];
    if (p === undefined) {
      const known = Object.keys(this.ports);
      throw new ContainerError(
        `container '${this.name}': port ${containerPort} is not published${known.length ? ` (published: ${known.join(", ")})` : ""}`,
        { hint: "add it to the service's ports" },
      );
    }
    return p;
  }

  async exec(command: string[], options?: ExecOptions): Promise<ExecResult> {
    let result: ExecResult;
    try {
      result = await execIn(this.#c, command, options);
    } catch (err) {
      if (engineUnreachable(err)) throw engineWentAway(err);
      if (isGone(err)) throw containerGone(this.id);
      if (err instanceof TimeoutError || err instanceof ContainerError) throw err;
      throw new ContainerError(`container '${this.name}': exec '${command.join(" ")}' failed: ${firstLine(err)}`, { cause: err });
    }
    // A stopping engine kills every container (137) and then stops answering: that is not the step's doing.
    if (result.exitCode === 137) await this.#engineStillThere();
    return result;
  }

  /** Throws EngineGoneError if the engine stops answering within a moment while this container is down. */
  async #engineStillThere(): Promise<void> {
    const deadline = Date.now() + ENGINE_GONE_WAIT_MS;
    for (;;) {
      try {
        const s = (await this.#c.inspect()).State;
        if (s.Running || Date.now() > deadline) return;
      } catch (err) {
        if (engineUnreachable(err)) throw engineWentAway(err);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async logs(options: { tail?: number } = {}): Promise<string> {
    try {
      const buf = await this.#c.logs({ follow: false, stdout: true, stderr: true, ...(options.tail === undefined ? {} : { tail: options.tail }) });
      return demux(buf);
    } catch (err) {
      if (isGone(err)) return "";
      if (engineUnreachable(err)) throw engineWentAway(err);
      throw err;
    }
  }

  async state(): Promise<ContainerState> {
    try {
      const s = (await this.#c.inspect()).State;
      return { running: s.Running, status: s.Status, ...(s.Running ? {} : { exitCode: s.ExitCode }), ...(s.OOMKilled ? { oomKilled: true } : {}) };
    } catch (err) {
      if (isGone(err)) return { running: false, status: "removed" };
      if (engineUnreachable(err)) throw engineWentAway(err);
      throw err;
    }
  }

  async pause(): Promise<void> {
    await this.#c.pause().catch(wrapEngine(`pause ${this.name}`));
  }

  async unpause(): Promise<void> {
    await this.#c.unpause().catch(wrapEngine(`unpause ${this.name}`));
  }

  async kill(signal = "SIGKILL"): Promise<void> {
    await this.#c.kill({ signal }).catch(wrapEngine(`kill ${this.name}`));
  }

  async restart(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.#c.restart({ t: Math.ceil((options.timeoutMs ?? 0) / 1000) }).catch(wrapEngine(`restart ${this.name}`));
  }

  remove(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#removed ??= (async () => {
      const t = options.timeoutMs;
      // Leave the run network first, in turn with the run's other containers (see network.ts).
      if (this.#leave) await leaveNetwork(this.#docker, this.#leave, this.id);
      if (t && t > 0) await this.#c.stop({ t: Math.max(1, Math.ceil(t / 1000)) }).catch(ignoreGone);
      await this.#c.remove({ force: true, v: true }).catch(ignoreGone);
      for (const v of this.#scopedVolumes) {
        try {
          await this.#docker.getVolume(v).remove();
        } catch (err) {
          if (!isGone(err)) throw err; // 409: another container of the run still uses it; the last one removes it
          if ((err as { statusCode?: number }).statusCode === 409) continue;
        }
        this.#volumeRemoved(v);
      }
    })().catch((err: unknown) => {
      this.#removed = undefined;
      if (engineUnreachable(err)) throw engineWentAway(err);
      throw err;
    });
    return this.#removed;
  }

  async probe(): Promise<boolean> {
    const p = this.#spec.health;
    try {
      switch (p?.kind) {
        case undefined:
          return (await this.state()).running;
        case "http": {
          const res = await fetch(`http://${this.host}:${this.mappedPort(p.port)}${p.path ?? "/"}`, {
            signal: AbortSignal.timeout(2_000),
            redirect: "manual",
          });
          await res.body?.cancel();
          return p.status === undefined ? res.status >= 200 && res.status < 400 : res.status === p.status;
        }
        case "tcp":
          return await tcpOpen(this.host, this.mappedPort(p.port));
        case "exec":
          return (await this.exec(p.command, { timeoutMs: 5_000 })).exitCode === 0;
        case "log": {
          const hits = new UserRegex(p.pattern, "m").count(await this.logs());
          return hits >= (p.times ?? 1);
        }
      }
    } catch {
      return false;
    }
  }
}

function ignoreGone(err: unknown): void {
  if (!isGone(err)) throw err;
}

let shared: DockerBackend | undefined;

/** The process-wide DockerBackend, created on first use. */
export function dockerBackend(): DockerBackend {
  shared ??= new DockerBackend();
  return shared;
}
