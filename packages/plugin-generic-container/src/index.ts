import {
  ContainerError,
  type ContainerSpec,
  containerExit,
  definePlugin,
  HealthStatus,
  type Outputs,
  type RunningContainer,
  runOptions,
} from "@clnrm/plugin-api";
import {
  capabilitySchema,
  checkSensitiveMounts,
  commandSchema,
  describeSpecNotices,
  envSchema,
  healthCheckSchema,
  healthCheckToProbe,
  portSchema,
  sleep,
  volumeSchema,
  volumesToMounts,
  z,
} from "@clnrm/plugin-kit";

export const configSchema = z.strictObject({
  image: z.string().trim().min(1, "image must not be empty").describe("Any image reference: \"alpine:latest\", \"nginx:1.27\", \"registry.example.com/team/api@sha256:...\"."),
  env: envSchema.default({}).describe("Environment variables of the container: { NAME = \"value\" }."),
  ports: z.array(portSchema).default([]).describe("\"8080\" maps container port 8080 to a random host port; \"18080:8080\" fixes the host port."),
  volumes: z.array(volumeSchema).default([]).describe("\"/host:/container\", \"./relative:/container:ro\" (relative to the test file), or \"volume:/container\"."),
  command: commandSchema.optional().describe("The command to run instead of the image's default: a string (run by sh -c) or an array of arguments."),
  entrypoint: z.array(z.string()).optional().describe("Replaces the image's entrypoint (an array of arguments)."),
  workdir: z.string().startsWith("/", "workdir must be an absolute path").optional().describe("Working directory of the command (an absolute path)."),
  user: z.string().min(1).optional().describe("User (and group) to run as: \"1000\", \"1000:1000\" or a name known to the image."),
  health_check: healthCheckSchema.optional().describe("When the service is ready: { type = \"http\", port, path }, { type = \"tcp\", port } or { type = \"command\", command }."),
  network: z.strictObject({ aliases: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "invalid alias")).default([]) }).optional().describe("Extra DNS names of the container on the run network: { aliases = [\"api\"] }."),
  resources: z
    .strictObject({ memory_mb: z.number().int().positive().optional(), cpus: z.number().positive().optional(), shm_size_mb: z.number().int().positive().optional() })
    .optional()
    .describe("Limits: { memory_mb, cpus, shm_size_mb }."),
  privileged: z.boolean().default(false).describe("Run the container privileged (all capabilities, host devices)."),
  cap_add: z.array(capabilitySchema).default([]).describe("Linux capabilities to add, e.g. [\"NET_ADMIN\"]."),
  keep_alive: z.union([z.boolean(), z.literal("auto")]).default("auto").describe("Keep the container up when its default command exits at once (a bare shell): true, false or \"auto\"."),
  init: z.boolean().default(false).describe("Run an init process (docker --init) as PID 1, to reap zombies and forward signals."),
  allow_sensitive_mounts: z.boolean().default(false).describe("Allow bind mounts of /, /etc, /root, home directories or the Docker socket."),
}).superRefine((config, ctx) => checkSensitiveMounts(config, ctx));

export type GenericContainerConfig = z.output<typeof configSchema>;

/** The ContainerSpec this plugin runs for a config: plain data, so it can be asserted without Docker. */
export function toContainerSpec(config: GenericContainerConfig, baseDir: string): ContainerSpec {
  const spec: ContainerSpec = {
    image: config.image,
    env: config.env,
    ports: config.ports,
    mounts: volumesToMounts(config.volumes, baseDir),
    keepAlive: config.keep_alive,
  };
  if (config.command) spec.command = config.command;
  if (config.entrypoint) spec.entrypoint = config.entrypoint;
  if (config.workdir) spec.workdir = config.workdir;
  if (config.user) spec.user = config.user;
  if (config.health_check) spec.health = healthCheckToProbe(config.health_check);
  if (config.network?.aliases.length) spec.aliases = config.network.aliases;
  if (config.resources) {
    spec.resources = {
      ...(config.resources.memory_mb ? { memoryMb: config.resources.memory_mb } : {}),
      ...(config.resources.cpus ? { cpus: config.resources.cpus } : {}),
      ...(config.resources.shm_size_mb ? { shmSizeMb: config.resources.shm_size_mb } : {}),
    };
  }
  if (config.privileged) spec.privileged = true;
  if (config.cap_add.length) spec.capAdd = config.cap_add;
  if (config.init) spec.init = true;
  return spec;
}

/** host, port (the first mapped port), port_<container> for each port, url (http on the first port). */
export function containerOutputs(container: RunningContainer): Outputs {
  const outputs: Outputs = { host: container.host, container: container.name };
  const mapped = Object.entries(container.ports);
  for (const [inner, outer] of mapped) outputs[`port_${inner}`] = outer;
  const first = mapped[0];
  if (first) {
    outputs.port = first[1];
    outputs.url = `http://${container.host}:${first[1]}`;
  }
  return outputs;
}

/**
 * A container without a health check is ready once it has stayed up this long. One whose command
 * exits sooner is a one-shot service: completed when it exits 0, failed (with its exit code and
 * last log lines) otherwise. Without this window, "exited before ready" would depend on how fast
 * the engine answers (a `sh -c "echo hello"` was a running service in some runs, failed in others).
 */
export const READY_AFTER_MS = 500;

/** "a | b | c": a container's last log lines on one line. */
function oneLine(tail: string): string {
  return tail.trim().replace(/\s*\n\s*/g, " | ");
}

export default definePlugin({
  type: "generic_container",
  description: "Any container image: env, ports, volumes, command, health check, network aliases",
  configSchema,
  /** The http health check's bearer token (and an Authorization header): redacted everywhere. */
  secretFields: ["health_check.auth_token", "health_check.headers.Authorization", "health_check.headers.authorization"],
  outputs: (config) => ["host", "container", ...(config.ports.length ? ["port", "url"] : []), ...config.ports.map((p) => `port_${p.container}`)],
  create(config, { baseDir }) {
    const spec = toContainerSpec(config, baseDir);
    // Set when the command exited 0 before the container was ready (a one-shot that completed).
    let completed: number | undefined;
    let startedAt = 0;
    return {
      async start(ctx) {
        let container: RunningContainer;
        try {
          container = await ctx.backend.run(spec, runOptions(ctx));
        } catch (err) {
          const exit = containerExit(err);
          if (!exit) throw err;
          if (exit.exitCode !== 0) {
            const tail = oneLine(exit.logTail);
            throw new ContainerError(`service '${ctx.service}': container exited with code ${exit.exitCode} before it was ready${tail ? `; last log lines: ${tail}` : ""}`, {
              code: "CLNRM_ERR_CONTAINER_EXITED",
              service: ctx.service,
              hint: "check the service's command and logs",
              cause: err,
            });
          }
          // The backend removed the exited container; the service has completed, with nothing to serve.
          completed = 0;
          return { service: ctx.service, containers: [], outputs: {}, notices: describeSpecNotices(spec) };
        }
        startedAt = Date.now();
        return {
          service: ctx.service,
          primary: container,
          containers: [container],
          outputs: containerOutputs(container),
          notices: describeSpecNotices(spec),
        };
      },
      async healthCheck(handle) {
        if (completed !== undefined) return HealthStatus.completed(completed);
        const c = handle.primary;
        if (!c) return HealthStatus.unknown("no container");
        // Without a probe, watch the container for an exit until it has been up READY_AFTER_MS.
        for (;;) {
          const state = await c.state();
          if (!state.running) {
            if (state.exitCode === 0) return HealthStatus.completed(0);
            const tail = oneLine(await c.logs({ tail: 5 }).catch(() => ""));
            return HealthStatus.failed(`container exited with code ${state.exitCode ?? "?"}${tail ? `; last log lines: ${tail}` : ""}`);
          }
          if (spec.health) {
            return (await c.probe()) ? HealthStatus.healthy() : HealthStatus.unhealthy(`health check (${spec.health.kind}) is failing`);
          }
          // A container running clnrm's keep-alive cannot exit on its own: no window to wait out.
          const left = startedAt + READY_AFTER_MS - Date.now();
          if (left <= 0 || config.keep_alive === true || c.keptAlive) return HealthStatus.healthy();
          await sleep(Math.min(50, left));
        }
      },
    };
  },
});
