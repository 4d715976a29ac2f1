// What a failed start is reported as (pure: no engine needed).
import { ContainerError, ContainerExitedError, TimeoutError } from "@clnrm/core";
import { describe, expect, it } from "vitest";
import { specProblem, startFailure } from "../src/failure.js";

const base = { service: "web", err: new Error("boom\nmore"), waitFailed: false, timeoutMs: 1_500 };

describe("startFailure", () => {
  it("an exited container: ContainerExitedError with code, last line and tail", () => {
    const e = startFailure({ ...base, exited: { code: 3, last: "fatal: no config", tail: "a\nfatal: no config" } });
    expect(e).toBeInstanceOf(ContainerExitedError);
    expect(e.message).toBe("service 'web': container exited with code 3 before it was ready: fatal: no config");
    expect((e as ContainerExitedError).exitCode).toBe(3);
    expect((e as ContainerExitedError).logTail).toBe("a\nfatal: no config");
  });

  it("create/start refused (no probe, or the wait never ran): the engine's first line", () => {
    const e = startFailure({ ...base, err: Object.assign(new Error("(HTTP code 400) bad parameter - invalid mount"), { statusCode: 400 }) });
    expect(e).toBeInstanceOf(ContainerError);
    expect(e).not.toBeInstanceOf(TimeoutError);
    expect(e.message).toBe("service 'web': cannot start container: invalid mount");
    expect(startFailure({ ...base, probe: { kind: "tcp", port: 1 } }).message).toBe("service 'web': cannot start container: boom");
  });

  it("the wait failed: a timeout names the probe and says what to check", () => {
    const e = startFailure({ ...base, probe: { kind: "http", port: 8080, path: "/health" }, waitFailed: true, err: new Error("not ready after 1500 ms") });
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toBe("service 'web': health check http :8080/health not ready after 1.5 s");
    expect(e.hint).toBe("check that the container listens on 8080, or raise health_check.timeout");
  });

  it("the wait saw the container end: says so", () => {
    const e = startFailure({ ...base, probe: { kind: "log", pattern: "up" }, waitFailed: true, err: new Error("container exited with code 1") });
    expect(e).not.toBeInstanceOf(TimeoutError);
    expect(e.message).toBe("service 'web': container exited before health check log /up/ passed");
  });
});

describe("specProblem", () => {
  it("networkOf with ports cannot run", () => {
    expect(specProblem({ image: "i", networkOf: "x", ports: [{ container: 80 }] }, "side")?.message).toBe(
      "service 'side': a container sharing another's network (networkOf) cannot publish ports",
    );
    expect(specProblem({ image: "i", networkOf: "x" }, "side")).toBeUndefined();
  });
});
