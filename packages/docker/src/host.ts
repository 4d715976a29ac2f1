// Where the Docker engine is, and how testcontainers is told.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ContainerError } from "@clnrm/core";
import type Dockerode from "dockerode";

export const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

/** The address the user gave when DOCKER_HOST was pointed at an ssh tunnel (see prepareEngine). */
let tunnelled: { user: string; local: string } | undefined;

/** The engine address for messages: the backend's option, else DOCKER_HOST (as the user wrote it), else the default socket. */
export function engineAddress(host: string | undefined): string {
  const address = host ?? process.env.DOCKER_HOST;
  return address && address === tunnelled?.local ? tunnelled.user : (address ?? DEFAULT_SOCKET);
}

/** The address to talk to directly, when one is configured (option or DOCKER_HOST); undefined: let testcontainers find one. */
export function explicitAddress(host: string | undefined): string | undefined {
  const address = host ?? process.env.DOCKER_HOST;
  return address && address === tunnelled?.user ? tunnelled.local : address;
}

/** The engine this process talks to, once prepared. */
export interface Engine {
  /** As the user wrote it (for messages). */
  address: string;
  /** The engine's host when it is another machine: published ports are reached there, local paths don't exist there. */
  remoteHost: string | undefined;
}

let prepared: Promise<Engine> | undefined;

/**
 * Readies the process's one engine before testcontainers' client is made: the backend's `host`
 * option (pointTestcontainersAt), DOCKER_TLS_VERIFY/DOCKER_CERT_PATH (normalizeTlsEnv), and for
 * ssh:// an ssh tunnel, DOCKER_HOST then naming its local socket for the rest of the process (host
 * steps that run `docker` reach the same engine). Once per process; a failure is retried next call.
 */
export function prepareEngine(host: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  prepared ??= (async (): Promise<Engine> => {
    pointTestcontainersAt(host, env);
    const address = env.DOCKER_HOST;
    if (address?.startsWith("ssh://")) {
      const { openSshTunnel } = await import("./ssh.js");
      const tunnel = await openSshTunnel(address, env);
      tunnelled = { user: address, local: tunnel.address };
      env.DOCKER_HOST = tunnel.address;
      return { address, remoteHost: remoteHostOf(address) };
    }
    if (address && !address.startsWith("unix://") && !address.startsWith("npipe://")) normalizeTlsEnv(env);
    return { address: address ?? DEFAULT_SOCKET, remoteHost: remoteHostOf(address) };
  })().catch((err: unknown) => {
    prepared = undefined;
    throw err;
  });
  return prepared;
}

/**
 * The host on which a container's published ports are reached: TESTCONTAINERS_HOST_OVERRIDE when
 * set (the user knows best), else a remote engine's host, else what testcontainers found.
 */
export function containerHost(engine: Engine, found: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.TESTCONTAINERS_HOST_OVERRIDE || engine.remoteHost || found;
}

/** Hostnames that are this machine: an engine there shares this filesystem. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * The engine's host when it is on another machine (tcp://, http(s)://, ssh:// to a name that is not
 * loopback), else undefined. Published ports are reached there, and local paths do not exist there.
 */
export function remoteHostOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (!["tcp:", "http:", "https:", "ssh:"].includes(url.protocol) || !url.hostname || LOOPBACK.has(url.hostname)) return undefined;
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** TLS is on as the docker CLI has it: DOCKER_TLS_VERIFY set to anything but "" (even "0"). */
export function tlsVerify(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.DOCKER_TLS_VERIFY;
}

/** Where the client certificates are: DOCKER_CERT_PATH, else ~/.docker (as the docker CLI). */
export function certPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CERT_PATH || join(env.HOME || homedir(), ".docker");
}

/** ca.pem (required), cert.pem and key.pem (when both exist) from the cert path, for a TLS engine. */
export function tlsFiles(env: NodeJS.ProcessEnv = process.env): { ca: Buffer; cert?: Buffer; key?: Buffer } {
  const dir = certPath(env);
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      throw new ContainerError(`DOCKER_TLS_VERIFY is set but ${join(dir, name)} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`, {
        code: "CLNRM_ERR_ENGINE_UNREACHABLE",
        hint: "set DOCKER_CERT_PATH to the directory holding the engine's ca.pem and your cert.pem and key.pem, or unset DOCKER_TLS_VERIFY",
        environment: true,
        cause: err,
      });
    }
  };
  const ca = read("ca.pem");
  if (!existsSync(join(dir, "cert.pem")) || !existsSync(join(dir, "key.pem"))) return { ca };
  return { ca, cert: read("cert.pem"), key: read("key.pem") };
}

/** Dockerode options for an engine address (unix://, npipe://, tcp://, http(s)://). DOCKER_TLS_VERIFY or https: TLS, with DOCKER_CERT_PATH's certificates when verifying. */
export function dockerodeOptions(address: string, env: NodeJS.ProcessEnv = process.env): Dockerode.DockerOptions {
  const url = new URL(address);
  if (url.protocol === "unix:" || url.protocol === "npipe:") return { socketPath: url.pathname };
  const verify = tlsVerify(env);
  const tls = verify || url.protocol === "https:";
  const options: Dockerode.DockerOptions = { host: url.hostname, port: url.port || (tls ? 2376 : 2375), protocol: tls ? "https" : "http" };
  return verify ? { ...options, ...tlsFiles(env) } : options;
}

/**
 * testcontainers takes TLS only as DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH set; the docker CLI
 * takes any non-empty DOCKER_TLS_VERIFY and ~/.docker by default. Written the CLI's way, the
 * variables are rewritten testcontainers' way before its client is made (certificates checked first,
 * so that a missing one is one line, not a TLS handshake error).
 */
export function normalizeTlsEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (!tlsVerify(env)) return;
  tlsFiles(env);
  env.DOCKER_CERT_PATH = certPath(env);
  env.DOCKER_TLS_VERIFY = "1";
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
