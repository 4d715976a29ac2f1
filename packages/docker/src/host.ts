// Where the Docker engine is, and how testcontainers is told.
import type Dockerode from "dockerode";

export const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

/** The engine address for messages: the backend's option, else DOCKER_HOST, else the default socket. */
export function engineAddress(host: string | undefined): string {
  return host ?? process.env.DOCKER_HOST ?? DEFAULT_SOCKET;
}

/** The address to talk to directly, when one is configured (option or DOCKER_HOST); undefined: let testcontainers find one. */
export function explicitAddress(host: string | undefined): string | undefined {
  return host ?? process.env.DOCKER_HOST;
}

/** Dockerode options for an engine address (unix://, npipe://, tcp://, http(s)://). DOCKER_TLS_VERIFY=1 or https: TLS. */
export function dockerodeOptions(address: string, env: NodeJS.ProcessEnv = process.env): Dockerode.DockerOptions {
  const url = new URL(address);
  if (url.protocol === "unix:" || url.protocol === "npipe:") return { socketPath: url.pathname };
  const tls = env.DOCKER_TLS_VERIFY === "1" || url.protocol === "https:";
  return { host: url.hostname, port: url.port || (tls ? 2376 : 2375), protocol: tls ? "https" : "http" };
}

/**
 * Points testcontainers at `host` before its engine client is first made. Not avoidable without
 * dropping testcontainers: it keeps one client per process, found only from DOCKER_HOST,
 * ~/.testcontainers.properties or the default sockets (getContainerRuntimeClient() takes no
 * address, and GenericContainer.start() calls it itself). So the write is made once, lazily (when a
 * backend with a `host` option first needs the engine, never on import), and only when DOCKER_HOST
 * is unset: an address the user set always wins.
 */
export function pointTestcontainersAt(host: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (host && !env.DOCKER_HOST) env.DOCKER_HOST = host;
}
