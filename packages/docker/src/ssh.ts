// DOCKER_HOST=ssh://[user@]host[:port]: an ssh tunnel from a local socket to the engine's socket there.
// testcontainers (and dockerode's ssh support, which needs an ssh-agent) can't be pointed at an ssh
// address, so the system's ssh client makes the connection, as the docker CLI's does: the user's
// ~/.ssh/config, keys, agent and known_hosts apply. CLNRM_SSH_COMMAND replaces `ssh` (e.g.
// "ssh -F /path/to/config"), as GIT_SSH_COMMAND does for git.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerError } from "@clnrm/core";

/** Where the engine listens on the remote host (the docker CLI's `ssh://` assumes it too). */
export const REMOTE_SOCKET = "/var/run/docker.sock";
const READY_TIMEOUT_MS = 20_000;

export interface SshTunnel {
  /** The local end: unix://... */
  address: string;
  close(): void;
}

/** The ssh command line for `address` (pure): options that never prompt, the forward, and a remote command that ends when we do. */
export function sshArgs(address: string, socket: string, env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } {
  const url = new URL(address);
  const [command = "ssh", ...extra] = (env.CLNRM_SSH_COMMAND?.trim() || "ssh").split(/\s+/);
  const args = [
    ...extra,
    "-o",
    "BatchMode=yes",
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "StreamLocalBindUnlink=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "ServerAliveInterval=15",
    "-L",
    `${socket}:${REMOTE_SOCKET}`,
    ...(url.port ? ["-p", url.port] : []),
    ...(url.username ? ["-l", decodeURIComponent(url.username)] : []),
    "--",
    url.hostname,
    // Reads until our end of stdin closes: when this process dies (even SIGKILL), ssh ends too.
    "cat",
  ];
  return { command, args };
}

function unreachable(address: string, why: string, cause?: unknown): ContainerError {
  return new ContainerError(`cannot reach the Docker engine at ${address}: ${why}`, {
    code: "CLNRM_ERR_ENGINE_UNREACHABLE",
    hint: `check that \`ssh ${new URL(address).host} docker version\` works without a prompt (a key in ssh-agent or ~/.ssh/config, the host in known_hosts); CLNRM_SSH_COMMAND sets the ssh command`,
    environment: true,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Opens the tunnel and resolves once the local socket answers; one line if ssh fails. */
export async function openSshTunnel(address: string, env: NodeJS.ProcessEnv = process.env): Promise<SshTunnel> {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-ssh-"));
  const socket = join(dir, "docker.sock");
  const { command, args } = sshArgs(address, socket, env);
  let child: ChildProcess;
  let stderr = "";
  let exited: string | undefined;
  const close = () => {
    process.off("exit", close);
    if (child.exitCode === null && child.signalCode === null) child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    child = spawn(command, args, { stdio: ["pipe", "ignore", "pipe"] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw unreachable(address, `cannot run ${command}: ${(err as Error).message}`, err);
  }
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr = (stderr + d).slice(-2000);
  });
  child.on("error", (err) => {
    exited = `cannot run ${command}: ${err.message}`;
  });
  child.on("exit", (code, signal) => {
    exited ??= `ssh exited (${signal ?? code})`;
  });
  process.on("exit", close);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      close();
      const last = stderr.trim().split("\n").filter(Boolean).pop();
      throw unreachable(address, last ? `ssh: ${last}` : exited);
    }
    if (await answers(socket)) break;
    if (Date.now() > deadline) {
      close();
      throw unreachable(address, `the ssh tunnel did not open within ${READY_TIMEOUT_MS / 1000}s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // The tunnel lives as long as this process, without keeping it alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return { address: `unix://${socket}`, close };
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socket);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
