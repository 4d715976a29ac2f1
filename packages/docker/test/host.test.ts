// Where the engine is: option, DOCKER_HOST, default socket; and the one process.env write (pure: env is passed in).
import { describe, expect, it } from "vitest";
import { DEFAULT_SOCKET, dockerodeOptions, pointTestcontainersAt } from "../src/host.js";

describe("dockerodeOptions", () => {
  it("unix and npipe sockets, plain and TLS tcp", () => {
    expect(dockerodeOptions(DEFAULT_SOCKET, {})).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(dockerodeOptions("tcp://10.0.0.5:2375", {})).toEqual({ host: "10.0.0.5", port: "2375", protocol: "http" });
    expect(dockerodeOptions("tcp://engine", {})).toEqual({ host: "engine", port: 2375, protocol: "http" });
    expect(dockerodeOptions("tcp://engine", { DOCKER_TLS_VERIFY: "1" })).toEqual({ host: "engine", port: 2376, protocol: "https" });
    expect(dockerodeOptions("https://engine:8443", {})).toEqual({ host: "engine", port: "8443", protocol: "https" });
  });
});

describe("pointTestcontainersAt", () => {
  it("sets DOCKER_HOST only for a backend host option, and never over the user's", () => {
    const env: NodeJS.ProcessEnv = {};
    pointTestcontainersAt(undefined, env);
    expect(env).toEqual({});
    pointTestcontainersAt("tcp://a:2375", env);
    expect(env.DOCKER_HOST).toBe("tcp://a:2375");
    pointTestcontainersAt("tcp://b:2375", env);
    expect(env.DOCKER_HOST).toBe("tcp://a:2375");
  });
});
