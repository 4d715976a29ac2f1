// Starting one planned container through testcontainers, raced against its exit and cancellation;
// a failure becomes one line (failure.ts). Loaded with testcontainers, on the first start.
import { type HealthProbe, untilAborted } from "@clnrm/core";
import type Dockerode from "dockerode";
import { type ContainerRuntimeClient, GenericContainer, type StartedTestContainer } from "testcontainers";
import type { ContainerPlan } from "./create-options.js";
import { engineUnreachable, engineWentAway } from "./engine.js";
import { startCancelled, startFailure } from "./failure.js";
import { firstLine, isGone } from "./util.js";
import { Tracked, exitBeforeReady, exitedWith, waitFor } from "./wait.js";

/** Never pull if the image is there; the image cache's inspect decides beforehand. */
const PULL_IF_MISSING = { shouldPull: () => false };

/** How long a cancelled start waits for a create request the engine has not answered yet. */
const CREATE_SETTLE_MS = 30_000;

/**
 * A GenericContainer whose create request is exactly a ContainerPlan's (create-options.ts): Init,
 * DeviceRequests, Mounts and NetworkingConfig have no builder method in testcontainers 11, and one
 * translation is easier to test than builder calls. It also cancels a start on an abort signal.
 */
class SpecContainer extends GenericContainer {
  #signal: AbortSignal | undefined;
  /** Set once the create request is sent: from then on, a cancelled start must wait for it and remove what it made. */
  createIssued = false;

  constructor(plan: ContainerPlan, signal: AbortSignal | undefined) {
    super(plan.create.Image!);
    const { HostConfig, ...create } = plan.create;
    this.createOpts = { ...this.createOpts, ...create };
    this.hostConfig = { ...this.hostConfig, ...HostConfig };
    // testcontainers keeps these apart: its bound ports (getMappedPort) and the NetworkMode it writes at start.
    this.exposedPorts = plan.ports.map((p) => ({ container: p.container, host: p.host, protocol: p.protocol }));
    if (HostConfig.NetworkMode) this.networkMode = HostConfig.NetworkMode;
    this.withAutoCleanup(false).withPullPolicy(PULL_IF_MISSING);
    this.#signal = signal;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    this.#signal?.throwIfAborted();
    this.createIssued = true;
  }

  protected override async containerCreated(): Promise<void> {
    this.#signal?.throwIfAborted();
  }
}

export interface StartOptions {
  service: string;
  probe: HealthProbe | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** Where published ports are reached (default: testcontainers' host; a remote engine's host differs, see host.ts). */
  host?: string | undefined;
}

/** Creates and starts the planned container and waits for its probe; throws one line (and leaves nothing) if that fails. */
export async function startPlanned(client: ContainerRuntimeClient, plan: ContainerPlan, options: StartOptions): Promise<StartedTestContainer> {
  const { service, probe, timeoutMs, signal } = options;
  const docker = client.container.dockerode;
  const name = plan.create.name;
  const c = new SpecContainer(plan, signal);
  const wait = new Tracked(waitFor(probe, options.host ?? client.info.containerRuntime.host, timeoutMs));
  c.withWaitStrategy(wait).withStartupTimeout(timeoutMs);

  const starting = c.start();
  // Raced against the container's exit: a command that exits before it is ready (a one-shot, or a
  // crash) is reported at once, not after testcontainers' wait for ports that never get bound.
  // (Not once the wait has failed: testcontainers then stops the container itself.)
  const exit = exitBeforeReady(docker.getContainer(name), () => c.createIssued && !wait.failed, starting);
  try {
    return await untilAborted(Promise.race([starting, exit]), signal);
  } catch (err) {
    if (signal?.aborted) {
      // Cancelled (SIGINT, test timeout) while testcontainers waits for ports or health: remove the
      // container now, which also ends that wait, instead of waiting for the health check to pass.
      // Before the create went out, the start stops itself there; after, it is waited for (removed as
      // soon as it exists) so that a create the engine is still working on can't leave a container.
      if (c.createIssued) await removeWhenCreated(docker.getContainer(name), starting);
      throw startCancelled(service, err);
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
    throw startFailure({ service, err, exited, probe, waitFailed: wait.failed, timeoutMs });
  }
}

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
