// The ContainerBackend on Docker: engine client, networks, run(), sweep. Nothing heavy is loaded on
// import: testcontainers and dockerode come with the first call that needs the engine (deps.ts).
import { randomBytes } from "node:crypto";
import {
  type ContainerBackend,
  ContainerError,
  type ContainerSpec,
  type EngineCapabilities,
  type NetworkHandle,
  type RunContainerOptions,
  type RunningContainer,
  type SweepOptions,
  untilAborted,
} from "@clnrm/core";
import type Dockerode from "dockerode";
import type { ContainerRuntimeClient } from "testcontainers";
import { ImageCache, VolumeCache } from "./caches.js";
import { DockerContainer } from "./container.js";
import { createOptions } from "./create-options.js";
import { loadDockerode, loadStart, loadTestcontainers } from "./deps.js";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { specProblem, startCancelled } from "./failure.js";
import { type Engine, containerHost, dockerodeOptions, engineAddress, explicitAddress, prepareEngine, remoteHostOf } from "./host.js";
import { labelsFor } from "./labels.js";
import { removeNetwork } from "./network.js";
import { type DockerSweepReport, type LiveRun, liveRuns, sweep } from "./sweep.js";
import { firstLine } from "./util.js";

const PING_TIMEOUT_MS = 3_000;
const DEFAULT_STARTUP_MS = 60_000;

export interface DockerBackendOptions {
  /**
   * Docker engine address (unix:///..., tcp://host:2375). testcontainers keeps one engine client per
   * process, configured from DOCKER_HOST / ~/.testcontainers.properties; when given and DOCKER_HOST is
   * unset, this sets DOCKER_HOST before the client is first created (see host.ts).
   */
  host?: string;
}

export class DockerBackend implements ContainerBackend {
  readonly name = "docker";
  readonly #host: string | undefined;
  readonly #images = new ImageCache();
  readonly #volumes = new VolumeCache();
  #capabilities: Promise<EngineCapabilities> | undefined;

  constructor(options: DockerBackendOptions = {}) {
    this.#host = options.host;
  }

  /** Where the engine is expected, for messages. */
  get address(): string {
    return engineAddress(this.#host);
  }

  async #client(): Promise<ContainerRuntimeClient> {
    await prepareEngine(this.#host);
    return (await loadTestcontainers()).getContainerRuntimeClient();
  }

  /** The dockerode instance testcontainers uses (same engine, same options). Used for inspect, exec, logs, remove, networks, volumes, sweep. */
  async #docker(): Promise<Dockerode> {
    return (await this.#client()).container.dockerode;
  }

  async ping(): Promise<void> {
    // Loading the engine client's modules takes the machine's time, not the engine's: the deadline
    // starts after it (on a loaded machine the imports alone can take seconds).
    await Promise.all([loadTestcontainers(), loadDockerode()]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), PING_TIMEOUT_MS);
    });
    // The deadline can fire while the engine client is still loading, before the race below
    // listens: handled here, so it is never an unhandled rejection that ends the process.
    deadline.catch(() => {});
    try {
      await prepareEngine(this.#host);
      // testcontainers falls back to the default socket when DOCKER_HOST does not answer, so an
      // explicitly configured engine is pinged directly.
      const explicit = explicitAddress(this.#host);
      const docker = explicit ? new (await loadDockerode())(dockerodeOptions(explicit)) : await this.#docker();
      await Promise.race([docker.ping(), deadline]);
    } catch (err) {
      if (err instanceof ContainerError && err.code === "CLNRM_ERR_ENGINE_UNREACHABLE") throw err; // ssh or TLS set-up: says what is wrong
      throw new ContainerError(`cannot reach the Docker engine at ${this.address}`, {
        code: "CLNRM_ERR_ENGINE_UNREACHABLE",
        hint: remoteHostOf(this.address)
          ? `check that the engine on ${remoteHostOf(this.address)} is up and reachable from this machine at that port, or point DOCKER_HOST at another`
          : "start it (sudo systemctl start docker, or dockerd &) or set DOCKER_HOST",
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

  async run(spec: ContainerSpec, options: RunContainerOptions): Promise<RunningContainer> {
    const { runId, service, network, signal } = options;
    if (signal?.aborted) throw startCancelled(service);
    const problem = specProblem(spec, service);
    if (problem) throw problem;
    const cancelled = () => startCancelled(service);
    const [client, { startPlanned }] = await Promise.all([this.#client(), loadStart()]);
    const engine = await prepareEngine(this.#host);
    const bindProblem = remoteBind(spec, service, engine);
    if (bindProblem) throw bindProblem;
    const host = containerHost(engine, client.info.containerRuntime.host);
    const docker = client.container.dockerode;
    // Abortable: a slow inspect (or pull) goes on in the background, cached, but nothing gets created.
    const image = await untilAborted(this.#images.inspect(client, spec.image), signal, cancelled);

    const safe = service.replace(/[^a-zA-Z0-9_.-]/g, "_");
    const plan = createOptions(spec, {
      runId,
      service,
      name: `clnrm-${runId}-${safe}-${randomBytes(3).toString("hex")}`,
      network,
      image: image.Config,
      startedAt: new Date().toISOString(),
    });
    await untilAborted(Promise.all(plan.volumes.map((v) => this.#volumes.ensure(docker, v.name, v.labels, runId))), signal, cancelled);

    const probe = spec.health;
    const timeoutMs = probe?.timeoutMs ?? options.startupTimeoutMs ?? DEFAULT_STARTUP_MS;
    const started = await startPlanned(client, plan, { service, probe, timeoutMs, signal, host });
    const scoped = plan.volumes.filter((v) => v.scoped).map((v) => v.name);
    const container = new DockerContainer(
      docker,
      started,
      spec,
      network?.name,
      plan.ports,
      spec.networkOf ? undefined : network?.name,
      scoped,
      (v) => this.#volumes.forget(v),
      host,
      plan.keptAlive,
    );
    if (signal?.aborted) {
      await container.remove();
      throw startCancelled(service);
    }
    return container;
  }

  /**
   * Removes what clnrm labelled: by default what runs that died on this host left (their process is
   * gone); `runId`: that run's; `all`: everything, live runs' too. See sweep.ts.
   */
  async sweep(options: SweepOptions = {}): Promise<DockerSweepReport> {
    return sweep(await this.#docker(), options, (v) => this.#volumes.forget(v));
  }

  /**
   * Runs with resources that a plain `sweep` leaves alone: their process is alive on this host, or
   * they were made from another host (whose processes can't be checked from here).
   */
  async liveRuns(): Promise<LiveRun[]> {
    return liveRuns(await this.#docker());
  }
}

/**
 * A bind mount names a path on this machine; a remote engine would mount its own path of that name
 * (or fail), so it is refused before anything is created, with what to do instead.
 */
export function remoteBind(spec: ContainerSpec, service: string, engine: Engine): ContainerError | undefined {
  const bind = spec.mounts?.find((m) => m.type === "bind");
  if (!bind || !engine.remoteHost) return undefined;
  return new ContainerError(
    `service '${service}': cannot bind-mount local path '${bind.source}' on the remote Docker engine at ${engine.address}: the engine runs on ${engine.remoteHost} and would mount that host's path, not this machine's`,
    {
      service,
      environment: true,
      hint: "use a volume and put the files in with a step, bake them into the image, or run against a local engine (unset DOCKER_HOST)",
    },
  );
}

let shared: DockerBackend | undefined;

/** The process-wide DockerBackend, created on first use. */
export function dockerBackend(): DockerBackend {
  shared ??= new DockerBackend();
  return shared;
}
