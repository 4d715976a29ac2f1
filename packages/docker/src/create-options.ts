// A ContainerSpec turned into the engine's create options: pure (no engine, no clock, no randomness;
// what varies is passed in), so that every field's translation is unit-tested.
import { type ContainerSpec, LABELS, type MountSpec, type PortSpec } from "@clnrm/core";
import type Dockerode from "dockerode";
import { VOLUME_LABEL, labelsFor, runVolumeName } from "./labels.js";

/** PID 1 that idles until stopped and exits at once on SIGTERM/SIGINT. */
export const KEEP_ALIVE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"];

const SHELLS = new Set(["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash", "/usr/bin/bash"]);

/** A DNS label Docker accepts as a hostname. */
const HOSTNAME = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;

export interface CreateContext {
  runId: string;
  service: string;
  /** The container's name (unique per start). */
  name: string;
  /** The run network to attach to (with the service name and aliases), unless the spec shares another container's network. */
  network?: { name: string } | undefined;
  /** The image's default entrypoint and command, from its inspect (for keepAlive: "auto"). */
  image?: { Entrypoint?: string[] | string | null; Cmd?: string[] | null } | undefined;
  /** The clnrm.started-at label's value. */
  startedAt: string;
}

/** A port to publish: `host` 0 lets the engine choose. */
export interface PublishedPort {
  container: number;
  host: number;
  protocol: "tcp" | "udp";
}

/** A named volume the container mounts; `scoped` ones belong to the run and are removed with it. */
export interface PlannedVolume {
  name: string;
  target: string;
  readOnly: boolean;
  labels: Record<string, string> | undefined;
  scoped: boolean;
}

export interface ContainerPlan {
  /** Exactly what the engine's create call receives (testcontainers adds its own labels). */
  create: Dockerode.ContainerCreateOptions & { name: string; HostConfig: Dockerode.HostConfig };
  /** The ports published (the spec's, plus an http/tcp health probe's port), for mapped-port lookup. */
  ports: PublishedPort[];
  /** The named volumes to create (if missing) before the container. */
  volumes: PlannedVolume[];
  /** The command was replaced by KEEP_ALIVE. */
  keptAlive: boolean;
}

/** The image would run a bare shell, which exits at once without a terminal. */
export function isBareShell(spec: Pick<ContainerSpec, "entrypoint" | "command">, image: CreateContext["image"]): boolean {
  const entrypoint = spec.entrypoint ?? image?.Entrypoint ?? [];
  const cmd = spec.command ?? image?.Cmd ?? [];
  const ep = typeof entrypoint === "string" ? [entrypoint] : entrypoint;
  return ep.filter((s) => s !== "").length === 0 && cmd.length === 1 && SHELLS.has(cmd[0]!);
}

/** The ports to publish: the spec's, and the health probe's port when it is reached from the host. */
export function publishedPorts(spec: Pick<ContainerSpec, "ports" | "health" | "networkOf">): PublishedPort[] {
  const ports: PortSpec[] = [...(spec.ports ?? [])];
  const probe = spec.health;
  if (!spec.networkOf && probe && (probe.kind === "http" || probe.kind === "tcp") && !ports.some((p) => p.container === probe.port)) {
    ports.push({ container: probe.port });
  }
  return ports.map((p) => ({ container: p.container, host: p.host ?? 0, protocol: p.protocol ?? "tcp" }));
}

/**
 * The volumes a spec mounts. A named volume belongs to its run (nothing leaks between tests): the
 * engine's volume is named after the run and removed with the run's last container. Kept volumes
 * (clnrm.keep=true: model caches, or a volume the test file marks kept) keep their own name and
 * outlive it.
 */
export function plannedVolumes(mounts: readonly MountSpec[] | undefined, runId: string): PlannedVolume[] {
  return (mounts ?? []).flatMap((m): PlannedVolume[] => {
    if (m.type !== "volume") return [];
    const readOnly = !!m.readOnly;
    if (m.labels?.[LABELS.keep] === "true") return [{ name: m.name, target: m.target, readOnly, labels: m.labels, scoped: false }];
    return [{ name: runVolumeName(runId, m.name), target: m.target, readOnly, labels: { ...m.labels, [VOLUME_LABEL]: m.name }, scoped: true }];
  });
}

/** The engine create options for `spec`. Throws nothing: the caller validates (e.g. networkOf with ports). */
export function createOptions(spec: ContainerSpec, ctx: CreateContext): ContainerPlan {
  const ports = publishedPorts(spec);
  const volumes = plannedVolumes(spec.mounts, ctx.runId);
  const host: Dockerode.HostConfig = {};
  const create: ContainerPlan["create"] = { name: ctx.name, Image: spec.image, HostConfig: host };

  if (spec.env) create.Env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const keptAlive = spec.keepAlive === true || (spec.keepAlive === "auto" && isBareShell(spec, ctx.image));
  if (keptAlive) {
    create.Entrypoint = spec.entrypoint ?? [KEEP_ALIVE[0]!];
    create.Cmd = spec.entrypoint ? KEEP_ALIVE : KEEP_ALIVE.slice(1);
  } else {
    if (spec.entrypoint) create.Entrypoint = spec.entrypoint;
    if (spec.command) create.Cmd = spec.command;
  }
  if (spec.workdir) create.WorkingDir = spec.workdir;
  if (spec.user) create.User = spec.user;
  create.Labels = { ...spec.labels, ...labelsFor(ctx.runId, ctx.service), [LABELS.startedAt]: ctx.startedAt };

  if (ports.length) {
    create.ExposedPorts = {};
    host.PortBindings = {};
    for (const p of ports) {
      create.ExposedPorts[`${p.container}/${p.protocol}`] = {};
      host.PortBindings[`${p.container}/${p.protocol}`] = [{ HostPort: String(p.host) }];
    }
  }

  const mounts = spec.mounts ?? [];
  const binds = mounts.filter((m) => m.type === "bind");
  if (binds.length) host.Binds = binds.map((m) => `${m.source}:${m.target}:${m.readOnly ? "ro" : "rw"}`);
  const tmpfs = mounts.filter((m) => m.type === "tmpfs");
  if (tmpfs.length) host.Tmpfs = Object.fromEntries(tmpfs.map((m) => [m.target, m.sizeMb ? `rw,size=${m.sizeMb}m` : "rw"]));
  if (volumes.length) host.Mounts = volumes.map((v) => ({ Type: "volume" as const, Source: v.name, Target: v.target, ReadOnly: v.readOnly }));

  const r = spec.resources;
  if (r?.memoryMb !== undefined) host.Memory = Math.ceil(r.memoryMb * 1024 * 1024);
  if (r?.cpus !== undefined) host.NanoCpus = Math.ceil(r.cpus * 1e9);
  if (r?.shmSizeMb) host.ShmSize = r.shmSizeMb * 1024 * 1024;
  if (spec.privileged) host.Privileged = true;
  if (spec.capAdd?.length) host.CapAdd = [...spec.capAdd];
  if (spec.init) host.Init = true;
  if (spec.gpus) {
    const g = spec.gpus;
    host.DeviceRequests = [{ Driver: g.driver ?? "nvidia", Count: g.count === "all" ? -1 : g.count, Capabilities: [g.capabilities ?? ["gpu"]] }];
  }

  if (spec.networkOf) {
    host.NetworkMode = `container:${spec.networkOf}`;
  } else if (ctx.network) {
    // Aliases at create time: one call instead of create + connect, and no default-bridge endpoint.
    host.NetworkMode = ctx.network.name;
    create.NetworkingConfig = { EndpointsConfig: { [ctx.network.name]: { Aliases: [...new Set([ctx.service, ...(spec.aliases ?? [])])] } } };
  }
  if (!spec.networkOf && !ctx.network && HOSTNAME.test(ctx.service)) {
    // Without a run network, the service still resolves its own name (Docker puts the hostname in /etc/hosts).
    create.Hostname = ctx.service;
  }
  return { create, ports, volumes, keptAlive };
}
