// Where the engine is: option, DOCKER_HOST, default socket; and the one process.env write (pure: env is passed in).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { remoteBind } from "../src/backend.js";
import { DEFAULT_SOCKET, containerHost, dockerodeOptions, normalizeTlsEnv, pointTestcontainersAt, remoteHostOf, tlsVerify } from "../src/host.js";
import { sshArgs } from "../src/ssh.js";

const certs = mkdtempSync(join(tmpdir(), "clnrm-certs-"));
for (const f of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(certs, f), f);
afterAll(() => rmSync(certs, { recursive: true, force: true }));

describe("dockerodeOptions", () => {
  it("unix and npipe sockets, plain and TLS tcp", () => {
    expect(dockerodeOptions(DEFAULT_SOCKET, {})).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(dockerodeOptions("tcp://10.0.0.5:2375", {})).toEqual({ host: "10.0.0.5", port: "2375", protocol: "http" });
    expect(dockerodeOptions("tcp://engine", {})).toEqual({ host: "engine", port: 2375, protocol: "http" });
    expect(dockerodeOptions("https://engine:8443", {})).toEqual({ host: "engine", port: "8443", protocol: "https" });
  });

  it("TLS verification reads ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (else ~/.docker)", () => {
    expect(dockerodeOptions("tcp://engine", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs })).toEqual({
      host: "engine",
      port: 2376,
      protocol: "https",
      ca: Buffer.from("ca.pem"),
      cert: Buffer.from("cert.pem"),
      key: Buffer.from("key.pem"),
    });
    expect(() => dockerodeOptions("tcp://engine", { DOCKER_TLS_VERIFY: "1", HOME: "/nonexistent" })).toThrow(
      /DOCKER_TLS_VERIFY is set but \/nonexistent\/\.docker\/ca\.pem cannot be read \(ENOENT\)/,
    );
  });
});

describe("TLS variables", () => {
  it("are on for any non-empty DOCKER_TLS_VERIFY, as for the docker CLI, and rewritten the way testcontainers reads them", () => {
    expect(tlsVerify({})).toBe(false);
    expect(tlsVerify({ DOCKER_TLS_VERIFY: "" })).toBe(false);
    expect(tlsVerify({ DOCKER_TLS_VERIFY: "yes" })).toBe(true);
    const env: NodeJS.ProcessEnv = { DOCKER_TLS_VERIFY: "yes", HOME: certs.replace(/\/[^/]+$/, ""), DOCKER_CERT_PATH: certs };
    normalizeTlsEnv(env);
    expect(env).toMatchObject({ DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs });
    const plain: NodeJS.ProcessEnv = {};
    normalizeTlsEnv(plain);
    expect(plain).toEqual({});
  });
});

describe("remote engines", () => {
  it("are tcp, http(s) and ssh addresses of another host (loopback and sockets are this machine)", () => {
    expect(remoteHostOf("tcp://10.77.0.2:2376")).toBe("10.77.0.2");
    expect(remoteHostOf("ssh://root@gpu-box:2222")).toBe("gpu-box");
    expect(remoteHostOf("https://[fd00::5]:2376")).toBe("fd00::5");
    expect(remoteHostOf("tcp://localhost:2375")).toBeUndefined();
    expect(remoteHostOf("tcp://127.0.0.1:2375")).toBeUndefined();
    expect(remoteHostOf(DEFAULT_SOCKET)).toBeUndefined();
    expect(remoteHostOf(undefined)).toBeUndefined();
  });

  it("publish ports on their host, unless TESTCONTAINERS_HOST_OVERRIDE says otherwise", () => {
    const remote = { address: "ssh://root@gpu-box", remoteHost: "gpu-box" };
    expect(containerHost(remote, "localhost", {})).toBe("gpu-box");
    expect(containerHost(remote, "localhost", { TESTCONTAINERS_HOST_OVERRIDE: "tunnel.example" })).toBe("tunnel.example");
    expect(containerHost({ address: DEFAULT_SOCKET, remoteHost: undefined }, "172.17.0.1", {})).toBe("172.17.0.1");
  });

  it("refuse bind mounts of local paths, saying why and what to do", () => {
    const spec = { image: "x", mounts: [{ type: "bind" as const, source: "/src/data", target: "/data" }] };
    const remote = { address: "tcp://10.77.0.2:2376", remoteHost: "10.77.0.2" };
    expect(remoteBind(spec, "web", remote)?.format()).toBe(
      "service 'web': cannot bind-mount local path '/src/data' on the remote Docker engine at tcp://10.77.0.2:2376: the engine runs on 10.77.0.2 and would mount that host's path, not this machine's (use a volume and put the files in with a step, bake them into the image, or run against a local engine (unset DOCKER_HOST))",
    );
    expect(remoteBind(spec, "web", { address: DEFAULT_SOCKET, remoteHost: undefined })).toBeUndefined();
    expect(remoteBind({ image: "x", mounts: [{ type: "volume", name: "v", target: "/v" }] }, "web", remote)).toBeUndefined();
  });
});

describe("sshArgs", () => {
  it("never prompts, forwards the engine's socket, takes port and user from the address, and CLNRM_SSH_COMMAND", () => {
    expect(sshArgs("ssh://me@box:2222", "/tmp/s.sock", { CLNRM_SSH_COMMAND: "ssh -F /etc/cfg" })).toEqual({
      command: "ssh",
      args: [
        "-F",
        "/etc/cfg",
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
        "/tmp/s.sock:/var/run/docker.sock",
        "-p",
        "2222",
        "-l",
        "me",
        "--",
        "box",
        "cat",
      ],
    });
    expect(sshArgs("ssh://box", "/s", {}).args.slice(-4)).toEqual(["/s:/var/run/docker.sock", "--", "box", "cat"]);
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
