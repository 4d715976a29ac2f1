// The spec -> engine create options translation, field by field (pure: no engine needed).
import { hostname } from "node:os";
import type { ContainerSpec } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { KEEP_ALIVE, createOptions } from "../src/create-options.js";

const ctx = { runId: "r1", service: "web", name: "clnrm-r1-web-abc123", startedAt: "2026-01-01T00:00:00.000Z" };
const plan = (spec: Partial<ContainerSpec>, extra: Partial<typeof ctx & { network: { name: string }; image: { Cmd?: string[] } }> = {}) =>
  createOptions({ image: "img:1", ...spec }, { ...ctx, ...extra });

describe("createOptions", () => {
  it("names the container, sets the image and the run's labels over the spec's", () => {
    const { create } = plan({ labels: { mine: "x", "clnrm.run": "spoofed" } });
    expect(create.name).toBe("clnrm-r1-web-abc123");
    expect(create.Image).toBe("img:1");
    expect(create.Labels).toEqual({
      mine: "x",
      "clnrm.managed": "true",
      "clnrm.run": "r1",
      "clnrm.service": "web",
      "clnrm.pid": String(process.pid),
      "clnrm.host": hostname(),
      "clnrm.started-at": "2026-01-01T00:00:00.000Z",
    });
  });

  it("env, command, entrypoint, workdir, user", () => {
    const { create } = plan({ env: { A: "1", B: "x=y" }, command: ["run"], entrypoint: ["/ep"], workdir: "/w", user: "1000:1000" });
    expect(create.Env).toEqual(["A=1", "B=x=y"]);
    expect(create.Cmd).toEqual(["run"]);
    expect(create.Entrypoint).toEqual(["/ep"]);
    expect(create.WorkingDir).toBe("/w");
    expect(create.User).toBe("1000:1000");
  });

  it("publishes ports (random when no host port) and adds an http/tcp probe's port", () => {
    const p = plan({ ports: [{ container: 80 }, { container: 53, host: 5353, protocol: "udp" }], health: { kind: "http", port: 8080 } });
    expect(p.ports).toEqual([
      { container: 80, host: 0, protocol: "tcp" },
      { container: 53, host: 5353, protocol: "udp" },
      { container: 8080, host: 0, protocol: "tcp" },
    ]);
    expect(p.create.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {}, "8080/tcp": {} });
    expect(p.create.HostConfig.PortBindings).toEqual({ "80/tcp": [{ HostPort: "0" }], "53/udp": [{ HostPort: "5353" }], "8080/tcp": [{ HostPort: "0" }] });
    expect(plan({ ports: [{ container: 8080, host: 1 }], health: { kind: "tcp", port: 8080 } }).ports).toHaveLength(1);
    expect(plan({ health: { kind: "exec", command: ["true"] } }).create.ExposedPorts).toBeUndefined();
  });

  it("bind, tmpfs and named-volume mounts; named volumes scoped to the run unless kept", () => {
    const p = plan({
      mounts: [
        { type: "bind", source: "/src", target: "/app", readOnly: true },
        { type: "bind", source: "/data", target: "/data" },
        { type: "tmpfs", target: "/tmp", sizeMb: 64 },
        { type: "tmpfs", target: "/run" },
        { type: "volume", name: "db", target: "/var/lib/db" },
        { type: "volume", name: "models", target: "/models", readOnly: true, labels: { "clnrm.keep": "true" } },
      ],
    });
    const h = p.create.HostConfig;
    expect(h.Binds).toEqual(["/src:/app:ro", "/data:/data:rw"]);
    expect(h.Tmpfs).toEqual({ "/tmp": "rw,size=64m", "/run": "rw" });
    expect(h.Mounts).toEqual([
      { Type: "volume", Source: "clnrm-r1-db", Target: "/var/lib/db", ReadOnly: false },
      { Type: "volume", Source: "models", Target: "/models", ReadOnly: true },
    ]);
    expect(p.volumes).toEqual([
      { name: "clnrm-r1-db", target: "/var/lib/db", readOnly: false, labels: { "clnrm.volume": "db" }, scoped: true },
      { name: "models", target: "/models", readOnly: true, labels: { "clnrm.keep": "true" }, scoped: false },
    ]);
  });

  it("GPU device requests", () => {
    expect(plan({ gpus: { count: "all" } }).create.HostConfig.DeviceRequests).toEqual([{ Driver: "nvidia", Count: -1, Capabilities: [["gpu"]] }]);
    expect(plan({ gpus: { count: 2, driver: "cdi", capabilities: ["gpu", "compute"] } }).create.HostConfig.DeviceRequests).toEqual([
      { Driver: "cdi", Count: 2, Capabilities: [["gpu", "compute"]] },
    ]);
    expect(plan({}).create.HostConfig.DeviceRequests).toBeUndefined();
  });

  it("init, privileged, capabilities, resources", () => {
    const h = plan({ init: true, privileged: true, capAdd: ["NET_ADMIN"], resources: { memoryMb: 256, cpus: 0.5, shmSizeMb: 64 } }).create.HostConfig;
    expect(h.Init).toBe(true);
    expect(h.Privileged).toBe(true);
    expect(h.CapAdd).toEqual(["NET_ADMIN"]);
    expect(h.Memory).toBe(256 * 1024 * 1024);
    expect(h.NanoCpus).toBe(500_000_000);
    expect(h.ShmSize).toBe(64 * 1024 * 1024);
    const none = plan({}).create.HostConfig;
    expect([none.Init, none.Privileged, none.CapAdd, none.Memory]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("on a run network: NetworkMode and the service name plus aliases (deduplicated) at create time, no hostname", () => {
    const { create } = plan({ aliases: ["api", "web"] }, { network: { name: "clnrm-r1" } });
    expect(create.HostConfig.NetworkMode).toBe("clnrm-r1");
    expect(create.NetworkingConfig).toEqual({ EndpointsConfig: { "clnrm-r1": { Aliases: ["web", "api"] } } });
    expect(create.Hostname).toBeUndefined();
  });

  it("without a network: the service name as hostname when it is a valid one", () => {
    expect(plan({}).create.Hostname).toBe("web");
    expect(plan({}).create.HostConfig.NetworkMode).toBeUndefined();
    expect(plan({}, { service: "my_svc" }).create.Hostname).toBeUndefined();
  });

  it("networkOf: NetworkMode container:<id>, no aliases, no hostname, even with a run network", () => {
    const { create } = plan({ networkOf: "abc123" }, { network: { name: "clnrm-r1" } });
    expect(create.HostConfig.NetworkMode).toBe("container:abc123");
    expect(create.NetworkingConfig).toBeUndefined();
    expect(create.Hostname).toBeUndefined();
    expect(plan({ networkOf: "abc123", health: { kind: "tcp", port: 80 } }).ports).toEqual([]);
  });

  it("keepAlive: replaces the command with KEEP_ALIVE (always, or for a bare shell image with auto)", () => {
    expect(plan({ keepAlive: true, command: ["x"] }).create).toMatchObject({ Entrypoint: [KEEP_ALIVE[0]], Cmd: KEEP_ALIVE.slice(1) });
    expect(plan({ keepAlive: true, entrypoint: ["/tini", "--"] }).create).toMatchObject({ Entrypoint: ["/tini", "--"], Cmd: KEEP_ALIVE });
    expect(plan({ keepAlive: "auto" }, { image: { Cmd: ["/bin/sh"] } }).keptAlive).toBe(true);
    const served = plan({ keepAlive: "auto" }, { image: { Cmd: ["nginx", "-g", "daemon off;"] } });
    expect(served.keptAlive).toBe(false);
    expect(served.create.Cmd).toBeUndefined();
    expect(plan({ keepAlive: "auto", command: ["sh"] }, { image: { Cmd: ["nginx"] } }).keptAlive).toBe(true);
  });

  it("does not share arrays with the spec", () => {
    const spec: ContainerSpec = { image: "i", capAdd: ["A"] };
    createOptions(spec, ctx).create.HostConfig.CapAdd?.push("B");
    expect(spec.capAdd).toEqual(["A"]);
  });
});
