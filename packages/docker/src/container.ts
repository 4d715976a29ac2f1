// A started container: exec, logs, state, signals, removal (leaving the run network first), probe.
import {
  ContainerError,
  type ContainerSpec,
  type ContainerState,
  type ExecOptions,
  type ExecResult,
  type RunningContainer,
  TimeoutError,
} from "@clnrm/core";
import type Dockerode from "dockerode";
import type { StartedTestContainer } from "testcontainers";
import type { PublishedPort } from "./create-options.js";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { leaveNetwork } from "./network.js";
import { checkProbe } from "./probe.js";
import { containerGone, demux, execIn, firstLine, isGone } from "./util.js";

/** How long an exec that ended with 137 waits to see whether the engine is going away. */
const ENGINE_GONE_WAIT_MS = 2_000;

/** Turns an engine error into a one-line ContainerError naming what was attempted. */
function wrapEngine(what: string): (err: unknown) => never {
  return (err: unknown) => {
    throw new ContainerError(`cannot ${what}: ${firstLine(err)}`, { cause: err });
  };
}

export class DockerContainer implements RunningContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly host: string;
  readonly networkIp: string | undefined;
  readonly ports: Readonly<Record<number, number>>;
  readonly keptAlive: boolean;
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
    ports: readonly PublishedPort[],
    /** The run network this container has an endpoint on: left (serially) before the container is removed. */
    leave?: string,
    /** Run-scoped volumes it mounts: removed after it, unless another container still uses them. */
    scopedVolumes: readonly string[] = [],
    volumeRemoved: (name: string) => void = () => {},
    /** Where its published ports are reached; default: testcontainers' host. */
    host?: string,
    /** Its command is clnrm's keep-alive (a bare shell's default replaced). */
    keptAlive = false,
  ) {
    this.keptAlive = keptAlive;
    this.id = started.getId();
    this.name = started.getName().replace(/^\//, "");
    this.image = spec.image;
    this.host = host ?? started.getHost();
    this.networkIp = networkName ? started.getIpAddress(networkName) || undefined : undefined;
    const map: Record<number, number> = {};
    for (const p of ports) map[p.container] = started.getMappedPort(p.container, p.protocol);
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

  /** The spec's health probe, once (the check the readiness wait polls, see probe.ts); no probe: running. */
  async probe(): Promise<boolean> {
    const p = this.#spec.health;
    try {
      if (!p) return (await this.state()).running;
      return await checkProbe(p, {
        host: this.host,
        port: (port) => this.mappedPort(port),
        exec: async (command, timeoutMs) => (await this.exec(command, { timeoutMs })).exitCode,
        logs: () => this.logs(),
      });
    } catch {
      return false;
    }
  }
}

function ignoreGone(err: unknown): void {
  if (!isGone(err)) throw err;
}

