/**
 * What a plugin asks a container engine to run. A ContainerSpec is plain data: plugins build one,
 * unit tests assert it without Docker, and a ContainerBackend (Docker today) runs it.
 */

/** A container port, optionally pinned to a host port. Without `host`, the engine picks a free one. */
export interface PortSpec {
  container: number;
  host?: number;
  protocol?: "tcp" | "udp";
}

/** A bind mount of a host path, or a named volume. */
export type MountSpec =
  | { type: "bind"; source: string; target: string; readOnly?: boolean }
  | { type: "volume"; name: string; target: string; readOnly?: boolean; labels?: Record<string, string> }
  | { type: "tmpfs"; target: string; sizeMb?: number };

/** How to tell that a container is ready. */
export type HealthProbe =
  | {
      kind: "http";
      port: number;
      path?: string;
      status?: number;
      timeoutMs?: number;
      /** Request headers sent with every probe. */
      headers?: Record<string, string>;
      /** A secret bearer token: sent as `Authorization: Bearer <token>` (see `httpProbeHeaders`). */
      authToken?: string;
    }
  | { kind: "tcp"; port: number; timeoutMs?: number }
  | { kind: "exec"; command: string[]; timeoutMs?: number }
  | { kind: "log"; pattern: string; times?: number; timeoutMs?: number };

export interface ResourceSpec {
  /** Memory limit in MiB. */
  memoryMb?: number;
  /** CPU limit in cores (0.5 = half a core). */
  cpus?: number;
  /** /dev/shm size in MiB. */
  shmSizeMb?: number;
}

export interface GpuRequest {
  /** Number of GPUs, or "all". */
  count: number | "all";
  driver?: string;
  capabilities?: string[];
}

export interface ContainerSpec {
  image: string;
  env?: Record<string, string>;
  ports?: PortSpec[];
  mounts?: MountSpec[];
  command?: string[];
  entrypoint?: string[];
  workdir?: string;
  user?: string;
  resources?: ResourceSpec;
  health?: HealthProbe;
  /** Extra DNS names on the run network, besides the service name. */
  aliases?: string[];
  labels?: Record<string, string>;
  privileged?: boolean;
  capAdd?: string[];
  gpus?: GpuRequest;
  /** Run an init process as PID 1 so that signals are handled (docker --init). */
  init?: boolean;
  /**
   * Keep the container running even when the image's default command would exit at once (such as a
   * bare shell). "auto" keeps it alive only when the effective command is a bare shell.
   */
  keepAlive?: boolean | "auto";
  /** Share another container's network namespace (a sidecar). The value is that container's id. */
  networkOf?: string;
  /** Environment variable names whose values must never be shown. */
  secretEnv?: string[];
}

export interface ExecOptions {
  env?: Record<string, string>;
  workdir?: string;
  user?: string;
  timeoutMs?: number;
  /** Sees every chunk of output as it arrives; the result keeps only a bounded head and tail (BoundedOutput). */
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ContainerState {
  running: boolean;
  exitCode?: number;
  status: string;
  /** The engine's OOM killer killed a process of the container (Docker's State.OOMKilled). */
  oomKilled?: boolean;
}

/** A container the backend started. Every method is safe to call after the container is gone. */
export interface RunningContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /** The host on which mapped ports are reachable. */
  readonly host: string;
  /** The container's address on the run network, if any. */
  readonly networkIp: string | undefined;
  /** True when clnrm replaced a bare shell's default command with a keep-alive (`keepAlive`): it cannot exit on its own. */
  readonly keptAlive?: boolean;
  /** Mapped host port for a container port. Throws if the port was not mapped. */
  mappedPort(containerPort: number): number;
  /** All mapped ports, container port -> host port. */
  readonly ports: Readonly<Record<number, number>>;
  exec(command: string[], options?: ExecOptions): Promise<ExecResult>;
  logs(options?: { tail?: number }): Promise<string>;
  state(): Promise<ContainerState>;
  /** Freezes every process of the container (docker pause). */
  pause(): Promise<void>;
  unpause(): Promise<void>;
  /** Sends a signal to the main process (default SIGKILL). */
  kill(signal?: string): Promise<void>;
  /** Restarts the container in place (same id, same network addresses). */
  restart(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops and removes the container. Idempotent. */
  remove(options?: { timeoutMs?: number }): Promise<void>;
  /** Waits once more for the spec's health probe (used by health checks). */
  probe(): Promise<boolean>;
}

export interface NetworkHandle {
  readonly id: string;
  readonly name: string;
  remove(): Promise<void>;
}

export interface RunContainerOptions {
  runId: string;
  service: string;
  network?: NetworkHandle;
  /** How long to wait for the health probe. */
  startupTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface SweepOptions {
  /** Only this run's resources. */
  runId?: string;
  /** Remove everything clnrm labelled, even if its run is alive (clnrm gc --all). */
  all?: boolean;
  /**
   * Also remove managed named volumes that no container uses. Volumes labelled `clnrm.keep=true`
   * (model caches) are removed only together with `all`.
   */
  volumes?: boolean;
}

export interface SweepReport {
  containers: string[];
  networks: string[];
  volumes: string[];
}

/** What the container engine offers (`ContainerBackend.capabilities`). */
export interface EngineCapabilities {
  /** The engine can run GPU requests (an NVIDIA runtime is installed). */
  gpu: boolean;
  /** Names of the engine's OCI runtimes ("runc", "nvidia", ...). */
  runtimes: string[];
  /** Memory available to the engine's containers, in bytes (the VM's under Docker Desktop). */
  memoryBytes: number;
  /** CPUs available to the engine's containers. */
  cpus: number;
}

/** A container engine. `@clnrm/docker` provides one on Docker. */
export interface ContainerBackend {
  readonly name: string;
  /** Resolves when the engine answers; throws a ContainerError with a hint otherwise. */
  ping(): Promise<void>;
  createNetwork(runId: string): Promise<NetworkHandle>;
  run(spec: ContainerSpec, options: RunContainerOptions): Promise<RunningContainer>;
  sweep(options?: SweepOptions): Promise<SweepReport>;
  /** What the engine offers. Optional to implement: callers fall back (e.g. try a GPU request and see). */
  capabilities?(): Promise<EngineCapabilities>;
}
