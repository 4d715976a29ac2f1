import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  capabilitySchema,
  LINUX_CAPABILITIES,
  sensitiveMountIssues,
  sensitiveMountReason,
  commandSchema,
  envSchema,
  healthCheckSchema,
  healthCheckToProbe,
  parsePort,
  parseVolume,
  portSchema,
  volumeSchema,
  volumesToMounts,
} from "../src/config.js";

describe("parsePort", () => {
  it.each([
    ["8080", { container: 8080 }],
    [" 8080 ", { container: 8080 }],
    ["18080:8080", { container: 8080, host: 18080 }],
    ["53/udp", { container: 53, protocol: "udp" }],
    ["5353:53/udp", { container: 53, host: 5353, protocol: "udp" }],
    ["80/tcp", { container: 80 }],
    ["65535", { container: 65535 }],
    [8080, { container: 8080 }],
    [1, { container: 1 }],
  ] as const)("parses %j", (input, expected) => {
    expect(parsePort(input)).toEqual(expected);
  });

  it.each([
    ["abc", /invalid port mapping "abc"/],
    ["70000", /container port 70000 is out of range/],
    ["70000:80", /host port 70000 is out of range/],
    ["1:2:3", /invalid port mapping "1:2:3"/],
    ["0", /container port 0 is out of range/],
    ["0:80", /host port 0 is out of range/],
    ["80/sctp", /invalid port mapping/],
    ["", /invalid port mapping/],
    [0, /port 0 is out of range/],
    [70000, /port 70000 is out of range/],
    [80.5, /out of range/],
    [-1, /out of range/],
  ] as const)("rejects %j with a message", (input, message) => {
    const r = parsePort(input);
    expect(typeof r).toBe("string");
    expect(r).toMatch(message);
  });
});

describe("portSchema", () => {
  it("parses strings and numbers", () => {
    expect(portSchema.parse("18080:8080")).toEqual({ container: 8080, host: 18080 });
    expect(portSchema.parse(9000)).toEqual({ container: 9000 });
  });

  it("reports parsePort's message as the issue", () => {
    const r = portSchema.safeParse("abc");
    expect(r.success).toBe(false);
    expect(r.error?.issues).toHaveLength(1);
    expect(r.error?.issues[0]?.message).toMatch(/invalid port mapping "abc": use "CONTAINER" or "HOST:CONTAINER"/);
    expect(portSchema.safeParse(70000).error?.issues[0]?.message).toBe("port 70000 is out of range (1-65535)");
  });

  it("rejects other types", () => {
    expect(portSchema.safeParse(true).success).toBe(false);
    expect(portSchema.safeParse(null).success).toBe(false);
  });
});

describe("parseVolume", () => {
  it.each([
    ["/a:/b", { source: "/a", target: "/b", readOnly: false, named: false }],
    ["/a:/b:ro", { source: "/a", target: "/b", readOnly: true, named: false }],
    ["/a:/b:rw", { source: "/a", target: "/b", readOnly: false, named: false }],
    ["./rel:/x", { source: "./rel", target: "/x", readOnly: false, named: false }],
    ["../up/dir:/x:ro", { source: "../up/dir", target: "/x", readOnly: true, named: false }],
    ["~/cache:/x", { source: "~/cache", target: "/x", readOnly: false, named: false }],
    ["name:/x", { source: "name", target: "/x", readOnly: false, named: true }],
    ["model-cache_1.v2:/root/.ollama", { source: "model-cache_1.v2", target: "/root/.ollama", readOnly: false, named: true }],
  ])("parses %s", (input, expected) => {
    expect(parseVolume(input)).toEqual(expected);
  });

  it.each([
    ["/a", /use "\/host\/path:\/container\/path"/],
    ["/a:rel", /the container path "rel" must be absolute/],
    ["/a:/b:xx", /use "\/host\/path:\/container\/path" with an optional ":ro"/],
    ["/a:/b:ro:x", /invalid volume/],
    [":/x", /the host path is empty/],
    ["bad name!:/x", /"bad name!" is neither a path nor a volume name/],
    ["rel/dir:/x", /neither a path nor a volume name/],
  ])("rejects %s", (input, message) => {
    const r = parseVolume(input);
    expect(typeof r).toBe("string");
    expect(r).toMatch(message);
  });

  it("volumeSchema turns errors into issues", () => {
    expect(volumeSchema.parse("/a:/b:ro")).toEqual({ source: "/a", target: "/b", readOnly: true, named: false });
    const r = volumeSchema.safeParse("/a:rel");
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/must be absolute/);
  });
});

describe("volumesToMounts", () => {
  it("resolves relative host paths against baseDir, keeps absolute ones, and maps names to volumes", () => {
    const vols = ["./data:/data:ro", "../shared:/shared", "/abs/path:/abs", "cache:/cache"].map((v) => {
      const p = parseVolume(v);
      if (typeof p === "string") throw new Error(p);
      return p;
    });
    expect(volumesToMounts(vols, "/work/tests")).toEqual([
      { type: "bind", source: "/work/tests/data", target: "/data", readOnly: true },
      { type: "bind", source: "/work/shared", target: "/shared", readOnly: false },
      { type: "bind", source: "/abs/path", target: "/abs", readOnly: false },
      { type: "volume", name: "cache", target: "/cache", readOnly: false },
    ]);
  });

  it("expands ~ to the home directory", () => {
    const home = process.env.HOME;
    process.env.HOME = "/home/tester";
    try {
      const v = parseVolume("~/models:/models");
      if (typeof v === "string") throw new Error(v);
      expect(volumesToMounts([v], "/work/tests")).toEqual([{ type: "bind", source: resolve("/home/tester/models"), target: "/models", readOnly: false }]);
    } finally {
      process.env.HOME = home;
    }
  });
});

describe("envSchema", () => {
  it("stringifies numbers and booleans", () => {
    expect(envSchema.parse({ A: "x", B: 1, C: true })).toEqual({ A: "x", B: "1", C: "true" });
    expect(envSchema.safeParse({ A: { nested: 1 } }).success).toBe(false);
  });
});

describe("healthCheckSchema", () => {
  it("parses each type, with defaults and durations", () => {
    expect(healthCheckSchema.parse({ type: "http", port: 8080 })).toEqual({ type: "http", port: 8080, path: "/" });
    expect(healthCheckSchema.parse({ type: "http", port: 8080, path: "/health", status: 204, timeout: "5s" })).toEqual({
      type: "http",
      port: 8080,
      path: "/health",
      status: 204,
      timeout: 5000,
    });
    expect(healthCheckSchema.parse({ type: "tcp", port: 5432, timeout: 2 })).toEqual({ type: "tcp", port: 5432, timeout: 2000 });
    expect(healthCheckSchema.parse({ type: "exec", command: ["pg_isready"] })).toEqual({ type: "exec", command: ["pg_isready"] });
    expect(healthCheckSchema.parse({ type: "log", pattern: "ready", times: 2 })).toEqual({ type: "log", pattern: "ready", times: 2 });
  });

  it("rejects unknown keys, per type", () => {
    const r = healthCheckSchema.safeParse({ type: "tcp", port: 5432, path: "/" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe("unrecognized_keys");
    expect(healthCheckSchema.safeParse({ type: "http", port: 80, prot: 1 }).success).toBe(false);
  });

  it.each([0, 70000, 80.5, "8080"])("rejects port %j", (port) => {
    expect(healthCheckSchema.safeParse({ type: "http", port }).success).toBe(false);
    expect(healthCheckSchema.safeParse({ type: "tcp", port }).success).toBe(false);
  });

  it("rejects other bad values", () => {
    expect(healthCheckSchema.safeParse({ type: "grpc", port: 80 }).success).toBe(false);
    expect(healthCheckSchema.safeParse({ type: "http", port: 80, path: "health" }).success).toBe(false);
    expect(healthCheckSchema.safeParse({ type: "exec", command: [] }).success).toBe(false);
    expect(healthCheckSchema.safeParse({ type: "log", pattern: "" }).success).toBe(false);
    expect(healthCheckSchema.safeParse({ type: "tcp", port: 80, timeout: "5 parsecs" }).success).toBe(false);
  });

  it("converts to probes", () => {
    expect(healthCheckToProbe(healthCheckSchema.parse({ type: "http", port: 80, timeout: "1s" }))).toEqual({ kind: "http", port: 80, path: "/", timeoutMs: 1000 });
    expect(healthCheckToProbe(healthCheckSchema.parse({ type: "http", port: 80, status: 204 }))).toEqual({ kind: "http", port: 80, path: "/", status: 204 });
    expect(healthCheckToProbe(healthCheckSchema.parse({ type: "tcp", port: 5432 }))).toEqual({ kind: "tcp", port: 5432 });
    expect(healthCheckToProbe(healthCheckSchema.parse({ type: "exec", command: ["true"], timeout: "500ms" }))).toEqual({
      kind: "exec",
      command: ["true"],
      timeoutMs: 500,
    });
    expect(healthCheckToProbe(healthCheckSchema.parse({ type: "log", pattern: "ready" }))).toEqual({ kind: "log", pattern: "ready" });
  });
});

describe("commandSchema", () => {
  it("runs a string through sh -c", () => {
    expect(commandSchema.parse("echo hi && sleep 1")).toEqual(["sh", "-c", "echo hi && sleep 1"]);
  });

  it("keeps an array as is", () => {
    expect(commandSchema.parse(["redis-server", "--port", "6380"])).toEqual(["redis-server", "--port", "6380"]);
  });

  it("rejects empty commands", () => {
    expect(commandSchema.safeParse("").success).toBe(false);
    expect(commandSchema.safeParse([]).success).toBe(false);
    expect(commandSchema.safeParse(5).success).toBe(false);
  });
});

describe("sensitiveMountReason", () => {
  it.each([
    ["/", "the host's root filesystem"],
    ["/etc/ssl", "host configuration (/etc)"],
    ["/var/run/docker.sock", "the Docker socket (full control of the host's engine)"],
    ["/home", "every user's home directory (/home)"],
    ["/home/alice/", "a home directory (/home/alice)"],
    ["/root", "a home directory (/root)"],
    ["/home/alice/.ssh/id_ed25519", "credentials in a home directory (/home/alice/.ssh)"],
    ["/root/.docker/config.json", "credentials in a home directory (/root/.docker)"],
    [`${homedir()}/.kube`, `credentials in a home directory (${homedir()}/.kube)`],
    ["/run", "a host system directory (/run)"],
    ["/var/run/containerd", "a host system directory (/var/run)"],
    ["/var/lib/docker/volumes", "a host system directory (/var/lib/docker)"],
    ["/usr/bin", "a host system directory (/usr)"],
    ["/bin", "a host system directory (/bin)"],
    ["/sbin", "a host system directory (/sbin)"],
    ["/lib/x86_64-linux-gnu", "a host system directory (/lib)"],
    ["/lib32", "a host system directory (/lib32)"],
    ["/lib64", "a host system directory (/lib64)"],
    ["/libx32", "a host system directory (/libx32)"],
    ["/boot", "a host system directory (/boot)"],
    ["/proc/1", "a host system directory (/proc)"],
    ["/sys", "a host system directory (/sys)"],
    ["/dev/sda", "a host system directory (/dev)"],
  ])("%s is sensitive: %s", (path, reason) => {
    expect(sensitiveMountReason(path)).toBe(reason);
  });

  it.each(["/home/alice/code/app/fixtures", "/root/project", "/srv/data", "/tmp", "/etcetera", "/homework", "/home/alice/.sshd-notes", "/var/lib/dockerx", "/usrdata", "/library", "/runner", "/device"])("%s is not", (path) => {
    expect(sensitiveMountReason(path)).toBeUndefined();
  });
});

describe("sensitiveMountIssues: symlinks and missing host paths", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "clnrm-links-")));
  mkdirSync(join(dir, "data"));
  symlinkSync("/etc", join(dir, "etclink"));
  symlinkSync("/", join(dir, "rootlink"));
  symlinkSync("/root", join(dir, "roothome"));
  symlinkSync("/run", join(dir, "runlink"));
  symlinkSync("/var/run/docker.sock", join(dir, "socklink"));
  symlinkSync(join(dir, "etclink"), join(dir, "linklink"));
  symlinkSync(join(dir, "data"), join(dir, "datalink"));
  symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const issues = (source: string, allow = false) => {
    const v = parseVolume(`${source}:/mnt`);
    if (typeof v === "string") throw new Error(v);
    return sensitiveMountIssues({ volumes: [v], allow_sensitive_mounts: allow }, dir).map((i) => i.message);
  };

  it.each([
    ["./etclink", "/etc", /host configuration \(\/etc\)/],
    ["./rootlink", "/", /root filesystem/],
    ["./roothome", "/root", /a home directory \(\/root\)/],
    ["./runlink", "/run", /a host system directory \(\/run\)/],
    ["./linklink", "/etc", /host configuration/],
    ["./etclink/ssl", "/etc/ssl", /host configuration/],
  ])("%s is refused, showing the resolved path %s", (source, real, reason) => {
    const [message] = issues(source);
    expect(message).toContain(`"${source}" (resolves to ${real})`);
    expect(message).toMatch(reason);
    expect(message).toMatch(/needs allow_sensitive_mounts = true/);
    expect(issues(source, true)).toEqual([]);
  });

  it("a link to the Docker socket is refused", () => {
    const real = realpathSync("/var/run/docker.sock");
    expect(issues("./socklink")[0]).toMatch(real === "/var/run/docker.sock" || real === "/run/docker.sock" ? /Docker socket/ : /host system directory/);
  });

  it("a link to a project directory is fine, and is mounted by its target", () => {
    expect(issues("./datalink")).toEqual([]);
    const v = parseVolume("./datalink:/d");
    if (typeof v === "string") throw new Error(v);
    expect(volumesToMounts([v], dir)).toEqual([{ type: "bind", source: join(dir, "data"), target: "/d", readOnly: false }]);
  });

  it("a host path that does not exist is refused, opt-in or not, and says which", () => {
    for (const allow of [false, true]) {
      expect(issues("./missing", allow)).toEqual([`host path "./missing" (resolves to ${join(dir, "missing")}) does not exist; create it or fix the path (Docker would create it, owned by root)`]);
    }
    expect(issues("./dangling")[0]).toMatch(/does not exist/);
    expect(issues(`${dir}/data`)).toEqual([]);
  });
});

describe("capabilitySchema", () => {
  it.each([
    ["NET_ADMIN", "NET_ADMIN"],
    ["net_admin", "NET_ADMIN"],
    ["CAP_SYS_PTRACE", "SYS_PTRACE"],
    [" cap_chown ", "CHOWN"],
    ["ALL", "ALL"],
    ["all", "ALL"],
  ])("accepts %j as %j", (input, out) => {
    expect(capabilitySchema.parse(input)).toBe(out);
  });

  it.each([
    ["NET_ADMN", "unknown capability \"NET_ADMN\": did you mean 'NET_ADMIN'?"],
    ["CAP_SYS_PTRCE", "unknown capability \"CAP_SYS_PTRCE\": did you mean 'SYS_PTRACE'?"],
    ["root", "unknown capability \"root\": use a Linux capability name such as NET_ADMIN or SYS_PTRACE (see capabilities(7)), or ALL"],
    ["", "unknown capability \"\": use a Linux capability name such as NET_ADMIN or SYS_PTRACE (see capabilities(7)), or ALL"],
  ])("refuses %j", (input, message) => {
    expect(capabilitySchema.safeParse(input).error?.issues[0]?.message).toBe(message);
  });

  it("knows the capabilities Docker grants by default and the ones tests add", () => {
    for (const c of ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE", "NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "BPF", "PERFMON"]) {
      expect(LINUX_CAPABILITIES).toContain(c);
    }
    expect(LINUX_CAPABILITIES).toHaveLength(41);
  });
});
