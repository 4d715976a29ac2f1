/**
 * Config fragments that many plugins share (ports, volumes, env, health checks), as zod schemas
 * plus the conversion into ContainerSpec parts. A plugin composes them into its own configSchema.
 */
import { existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { durationSchema } from "./duration.js";
import { userRegexSourceSchema } from "./regex.js";
import type { ContainerSpec, HealthProbe, MountSpec, PortSpec } from "./spec.js";
import { didYouMean } from "./suggest.js";

const PORT_RE = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/;

function portNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Parses "8080" (random host port), "18080:8080" (fixed host port), with an optional "/udp". */
export function parsePort(input: string | number): PortSpec | string {
  if (typeof input === "number") {
    return portNumber(input) ? { container: input } : `port ${input} is out of range (1-65535)`;
  }
  const m = PORT_RE.exec(input.trim());
  if (!m) return `invalid port mapping "${input}": use "CONTAINER" or "HOST:CONTAINER", e.g. "8080" or "18080:8080"`;
  const container = Number(m[2]);
  const host = m[1] === undefined ? undefined : Number(m[1]);
  if (!portNumber(container)) return `invalid port mapping "${input}": container port ${container} is out of range (1-65535)`;
  if (host !== undefined && !portNumber(host)) return `invalid port mapping "${input}": host port ${host} is out of range (1-65535)`;
  const spec: PortSpec = { container };
  if (host !== undefined) spec.host = host;
  if (m[3] === "udp") spec.protocol = "udp";
  return spec;
}

export const portSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const p = parsePort(v);
  if (typeof p === "string") {
    ctx.addIssue({ code: "custom", message: p });
    return z.NEVER;
  }
  return p;
});

export interface VolumeConfig {
  source: string;
  target: string;
  readOnly: boolean;
  named: boolean;
  /** A named volume marked `:keep`: it outlives the run (others are per run, removed at teardown). */
  keep?: boolean;
}

/** Parses "/host:/container", "./rel:/container:ro", "volume-name:/container" or "volume-name:/container:keep" (or "ro,keep"). */
export function parseVolume(input: string): VolumeConfig | string {
  const parts = input.split(":");
  const opts = parts.length === 3 ? parts[2]!.split(",") : [];
  const mode = opts.find((o) => o === "ro" || o === "rw");
  const keep = opts.includes("keep");
  if (parts.length < 2 || parts.length > 3 || opts.some((o) => o !== "ro" && o !== "rw" && o !== "keep")) {
    return `invalid volume "${input}": use "/host/path:/container/path" with an optional ":ro" (a named volume also takes ":keep")`;
  }
  const [source, target] = parts as [string, string];
  if (!source) return `invalid volume "${input}": the host path is empty`;
  if (!target.startsWith("/")) return `invalid volume "${input}": the container path "${target}" must be absolute`;
  const named = !source.startsWith("/") && !source.startsWith(".") && !source.startsWith("~");
  if (named && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source)) return `invalid volume "${input}": "${source}" is neither a path nor a volume name`;
  if (keep && !named) return `invalid volume "${input}": only a named volume can be kept (":keep"); a host path always stays`;
  return { source, target, readOnly: mode === "ro", named, ...(keep ? { keep } : {}) };
}

export const volumeSchema = z.string().transform((v, ctx) => {
  const p = parseVolume(v);
  if (typeof p === "string") {
    ctx.addIssue({ code: "custom", message: p });
    return z.NEVER;
  }
  return p;
});

/**
 * The host path a bind volume mounts: absolute as written, `~/x` in $HOME, anything else relative
 * to `baseDir`; with every symlink on the way resolved (a link to /etc is /etc), so that what is
 * checked is what the engine mounts.
 */
export function bindSource(source: string, baseDir: string): string {
  return realPath(isAbsolute(source) ? source : resolve(baseDir, source.replace(/^~(?=\/)/, process.env.HOME ?? "~")));
}

/** realpath of the longest part of `p` that exists, with the rest appended as written. */
export function realPath(p: string): string {
  const rest: string[] = [];
  for (let cur = resolve(p); ; ) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

/** Turns parsed volumes into mounts, resolving relative host paths against `baseDir`. */
export function volumesToMounts(volumes: readonly VolumeConfig[], baseDir: string): MountSpec[] {
  return volumes.map((v) =>
    v.named
      ? { type: "volume", name: v.source, target: v.target, readOnly: v.readOnly, ...(v.keep ? { labels: { "clnrm.keep": "true" } } : {}) }
      : { type: "bind", source: bindSource(v.source, baseDir), target: v.target, readOnly: v.readOnly },
  );
}

export const envSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const containerPort = z.number().int().min(1).max(65535);

export const healthCheckSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("http"),
    port: containerPort,
    path: z.string().startsWith("/").default("/"),
    status: z.number().int().optional(),
    timeout: durationSchema.optional(),
    /** Headers sent with every probe: { "X-Tenant" = "t1" }. */
    headers: z
      .record(z.string(), z.string())
      .superRefine((h, ctx) => {
        for (const k of Object.keys(h)) if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) ctx.addIssue({ code: "custom", path: [k], message: `invalid header name ${JSON.stringify(k)}: use letters, digits and !#$%&'*+-.^_\`|~` });
      })
      .optional(),
    /** A secret bearer token (sent as Authorization: Bearer …; redacted everywhere). */
    auth_token: z.string().min(1, "auth_token must not be empty").optional(),
  }),
  z.strictObject({ type: z.literal("tcp"), port: containerPort, timeout: durationSchema.optional() }),
  z.strictObject({ type: z.literal("exec"), command: z.array(z.string()).min(1), timeout: durationSchema.optional() }),
  z.strictObject({ type: z.literal("log"), pattern: userRegexSourceSchema, times: z.number().int().min(1).optional(), timeout: durationSchema.optional() }),
]);

export type HealthCheckConfig = z.output<typeof healthCheckSchema>;

export function healthCheckToProbe(h: HealthCheckConfig): HealthProbe {
  const timeout = h.timeout === undefined ? {} : { timeoutMs: h.timeout };
  switch (h.type) {
    case "http":
      return {
        kind: "http",
        port: h.port,
        path: h.path,
        ...(h.status === undefined ? {} : { status: h.status }),
        ...(h.headers ? { headers: h.headers } : {}),
        ...(h.auth_token ? { authToken: h.auth_token } : {}),
        ...timeout,
      };
    case "tcp":
      return { kind: "tcp", port: h.port, ...timeout };
    case "exec":
      return { kind: "exec", command: h.command, ...timeout };
    case "log":
      return { kind: "log", pattern: h.pattern, ...(h.times === undefined ? {} : { times: h.times }), ...timeout };
  }
}

/** A command given as an array or a single string (run with `sh -c`). */
export const commandSchema = z.union([z.array(z.string()).min(1), z.string().min(1).transform((s) => ["sh", "-c", s])]);

const DOCKER_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];

/** Host directories (and everything in them) that reach the engine, the kernel or the host's binaries. */
const SYSTEM_DIRS = ["/etc", "/run", "/var/run", "/var/lib/docker", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys", "/dev"];

/** Credentials and keys kept in a home directory: mounting one of these exposes them to the container. */
const HOME_SECRETS = [".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config/gcloud", ".netrc", ".npmrc", ".pypirc", ".git-credentials"];

/**
 * Why mounting this host path is sensitive, or undefined: the root; the Docker socket (full control
 * of the host); a system directory or anything in it (/etc, /run and /var/run where the socket is,
 * /var/lib/docker, /usr, /bin, /sbin, /lib*, /boot, /proc, /sys, /dev); a home directory itself
 * (/root, /home/NAME, the user's home, or /home), and the credentials kept in one (~/.ssh, ~/.aws,
 * ...). A project directory inside a home directory is not sensitive: that is where most tests and
 * their fixtures live. The path is taken as written: resolve links first (bindSource does).
 */
export function sensitiveMountReason(source: string): string | undefined {
  const p = resolve(source);
  if (p === "/") return "the host's root filesystem";
  if (DOCKER_SOCKETS.includes(p)) return "the Docker socket (full control of the host's engine)";
  const inside = (dir: string) => p === dir || p.startsWith(`${dir}/`);
  const system = SYSTEM_DIRS.find(inside);
  if (system === "/etc") return "host configuration (/etc)";
  if (system) return `a host system directory (${system})`;
  if (p === "/home") return "every user's home directory (/home)";
  const home = [homedir(), realPath(homedir()), "/root", /^\/home\/[^/]+/.exec(p)?.[0]].find((h): h is string => !!h && h !== "/" && inside(h));
  if (!home) return undefined;
  if (p === home) return `a home directory (${home})`;
  const rel = p.slice(home.length + 1);
  const secret = HOME_SECRETS.find((s) => rel === s || rel.startsWith(`${s}/`));
  return secret ? `credentials in a home directory (${home}/${secret})` : undefined;
}

/**
 * The problems with the bind mounts of a config with `volumes` and `allow_sensitive_mounts`: a host
 * path that does not exist (Docker would create it, owned by root), and a sensitive one without the
 * opt-in; the index of each in `volumes`, and a one-line message that shows the resolved path. Host
 * paths are resolved as they are mounted (see bindSource), links included.
 */
export function sensitiveMountIssues(
  config: { volumes: readonly VolumeConfig[]; allow_sensitive_mounts?: boolean },
  baseDir: string,
  checkMissing = true,
): { index: number; message: string }[] {
  return config.volumes.flatMap((v, index) => {
    if (v.named) return [];
    const real = bindSource(v.source, baseDir);
    const shown = real === v.source ? `"${v.source}"` : `"${v.source}" (resolves to ${real})`;
    if (checkMissing && !existsSync(real)) return [{ index, message: `host path ${shown} does not exist; create it or fix the path (Docker would create it, owned by root)` }];
    const reason = config.allow_sensitive_mounts ? undefined : sensitiveMountReason(real);
    return reason ? [{ index, message: `${shown} is ${reason}; mounting it needs allow_sensitive_mounts = true` }] : [];
  });
}

/**
 * A zod check for a config with `volumes` and `allow_sensitive_mounts`: a sensitive bind mount
 * needs the explicit opt-in. A schema knows no test file, so only absolute and `~/` paths are
 * checked here; the runner checks relative ones, and that every host path exists, from the test
 * file's directory (or pass `baseDir` to check both against it).
 */
export function checkSensitiveMounts(
  config: { volumes: readonly VolumeConfig[]; allow_sensitive_mounts?: boolean },
  ctx: z.RefinementCtx,
  baseDir?: string,
): void {
  const volumes = config.volumes.map((v) => (baseDir || isAbsolute(v.source) || v.source.startsWith("~/") ? v : { ...v, named: true }));
  for (const { index, message } of sensitiveMountIssues({ ...config, volumes }, baseDir ?? process.cwd(), baseDir !== undefined)) {
    ctx.addIssue({ code: "custom", path: ["volumes", index], message });
  }
}

/** One line per mount, capability and privilege of a spec: what the run output shows for a service. */
export function describeSpecNotices(spec: ContainerSpec): string[] {
  const notes: string[] = [];
  for (const m of spec.mounts ?? []) {
    if (m.type === "bind") notes.push(`mount ${m.source} → ${m.target}${m.readOnly ? " (read-only)" : ""}`);
    else if (m.type === "volume") notes.push(`volume ${m.name} → ${m.target}${m.readOnly ? " (read-only)" : ""}`);
  }
  if (spec.privileged) notes.push("privileged mode");
  if (spec.capAdd?.length) notes.push(`added capabilities: ${spec.capAdd.join(", ")}`);
  if (spec.gpus) notes.push(`GPUs: ${spec.gpus.count}`);
  return notes;
}

/** The Linux capabilities (capabilities(7), kernel 6.x), without their CAP_ prefix. */
export const LINUX_CAPABILITIES: readonly string[] = [
  "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE",
  "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
  "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID",
  "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
  "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
];

/**
 * A capability to add, as Docker takes it: a Linux capability name with or without `CAP_`, in any
 * case, or `ALL`. Output is the canonical name (`NET_ADMIN`); an unknown name is refused with a
 * "did you mean".
 */
export const capabilitySchema = z.string().transform((v, ctx) => {
  const name = v.trim().toUpperCase().replace(/^CAP_/, "");
  if (name === "ALL" || LINUX_CAPABILITIES.includes(name)) return name;
  const hint = didYouMean(name, LINUX_CAPABILITIES);
  ctx.addIssue({
    code: "custom",
    message: `unknown capability ${JSON.stringify(v)}: ${hint ? `did you mean '${hint}'?` : "use a Linux capability name such as NET_ADMIN or SYS_PTRACE (see capabilities(7)), or ALL"}`,
  });
  return z.NEVER;
});
