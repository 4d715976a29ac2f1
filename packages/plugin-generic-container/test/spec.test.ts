import { describe, expect, it } from "vitest";
import plugin, { configSchema, toContainerSpec } from "../src/index.js";

const parse = (c: unknown) => configSchema.parse(c);

describe("generic_container config → ContainerSpec", () => {
  it("maps every key", () => {
    const spec = toContainerSpec(
      parse({
        image: "nginx:1.27",
        env: { A: "1", N: 2, B: true },
        ports: ["8080", "18081:8081", 53],
        volumes: ["/srv/data:/data:ro", "./fixtures:/fixtures", "cache:/cache"],
        command: "nginx -g 'daemon off;'",
        entrypoint: ["/docker-entrypoint.sh"],
        workdir: "/app",
        user: "101",
        health_check: { type: "http", port: 8080, path: "/healthz", timeout: "5s" },
        network: { aliases: ["web", "www"] },
        resources: { memory_mb: 256, cpus: 0.5 },
        cap_add: ["NET_ADMIN"],
        init: true,
      }),
      "/project/tests",
    );
    expect(spec).toEqual({
      image: "nginx:1.27",
      env: { A: "1", N: "2", B: "true" },
      ports: [{ container: 8080 }, { container: 8081, host: 18081 }, { container: 53 }],
      mounts: [
        { type: "bind", source: "/srv/data", target: "/data", readOnly: true },
        { type: "bind", source: "/project/tests/fixtures", target: "/fixtures", readOnly: false },
        { type: "volume", name: "cache", target: "/cache", readOnly: false },
      ],
      command: ["sh", "-c", "nginx -g 'daemon off;'"],
      entrypoint: ["/docker-entrypoint.sh"],
      workdir: "/app",
      user: "101",
      health: { kind: "http", port: 8080, path: "/healthz", timeoutMs: 5000 },
      aliases: ["web", "www"],
      resources: { memoryMb: 256, cpus: 0.5 },
      capAdd: ["NET_ADMIN"],
      init: true,
      keepAlive: "auto",
    });
  });

  it("defaults to the image's own command, kept alive when it is a bare shell", () => {
    expect(toContainerSpec(parse({ image: "alpine:latest" }), "/")).toEqual({ image: "alpine:latest", env: {}, ports: [], mounts: [], keepAlive: "auto" });
  });

  it.each([
    [{ image: "" }, "image must not be empty"],
    [{ image: "   " }, "image must not be empty"],
    [{}, "expected string"],
    [{ image: "a", ports: ["http"] }, "invalid port mapping \\\"http\\\""],
    [{ image: "a", ports: ["0"] }, "out of range"],
    [{ image: "a", ports: ["8080:99999"] }, "out of range"],
    [{ image: "a", volumes: ["/only-one-part"] }, "invalid volume"],
    [{ image: "a", volumes: ["/a:relative"] }, "must be absolute"],
    [{ image: "a", imgae: "b" }, "imgae"],
    [{ image: "a", health_check: { type: "http" } }, "expected number"],
    [{ image: "a", health_check: { type: "smoke" } }, ""],
    [{ image: "a", keep_alive: "sometimes" }, ""],
    [{ image: "a", workdir: "relative" }, "absolute"],
  ])("rejects %j", (config, message) => {
    const r = configSchema.safeParse(config);
    expect(r.success).toBe(false);
    if (!r.success && message) expect(JSON.stringify(r.error.issues)).toContain(message);
  });

  it("is a branded v1 definition", () => {
    expect(plugin.$$type).toBe("@clnrm/plugin");
    expect(plugin.apiVersion).toBe(1);
    expect(plugin.type).toBe("generic_container");
  });
});

describe("sensitive bind mounts", () => {
  it.each([
    "/:/host",
    "/etc:/etc-host:ro",
    "/etc/passwd:/p",
    "/root:/r",
    "/home:/h",
    "/home/alice:/h",
    "/home/alice/.ssh:/keys:ro",
    "/root/.aws/credentials:/c",
    "/home/bob/.config/gcloud:/g",
    "~/.ssh:/keys",
    "/var/run/docker.sock:/var/run/docker.sock",
  ])("%s needs allow_sensitive_mounts", (volume) => {
    const r = configSchema.safeParse({ image: "a", volumes: [volume] });
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(r.error.issues[0]?.message).toMatch(/needs allow_sensitive_mounts = true/);
      expect(r.error.issues[0]?.path).toEqual(["volumes", 0]);
    }
    expect(configSchema.safeParse({ image: "a", volumes: [volume], allow_sensitive_mounts: true }).success).toBe(true);
  });

  it("other host paths work as written", () => {
    expect(configSchema.safeParse({ image: "a", volumes: ["/srv/data:/data", "/tmp/x:/x", "/etcetera:/e", "cache:/cache"] }).success).toBe(true);
  });

  it("a project inside a home directory is not sensitive (that is where tests and fixtures live)", () => {
    const volumes = ["/home/alice/code/app/fixtures:/fixtures:ro", "/root/proj/data:/data", "/home/alice/.sshd-notes:/n", "/homework:/w"];
    expect(configSchema.safeParse({ image: "a", volumes }).success).toBe(true);
  });
});
