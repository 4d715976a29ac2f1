// testcontainers and dockerode are loaded when the engine is first needed, not when @clnrm/docker
// is imported: `clnrm validate`, a plugin's unit tests, or anything that only needs the package's
// types and helpers never pays for them (~200 ms here). The CLI's entry point also defers
// testcontainers' optional dependencies (see lazy-deps.ts); a library user gets them as
// testcontainers asks.
let tc: Promise<typeof import("testcontainers")> | undefined;
let dockerode: Promise<typeof import("dockerode")> | undefined;
type DockerodeClass = typeof import("dockerode");

export function loadTestcontainers(): Promise<typeof import("testcontainers")> {
  tc ??= import("testcontainers");
  return tc;
}

/** The Dockerode class (a CommonJS module: its export is the default). */
export function loadDockerode(): Promise<DockerodeClass> {
  dockerode ??= import("dockerode").then((m) => m.default);
  return dockerode;
}

/** The start-up pipeline (create options, SpecContainer, wait, failure classification). */
let start: Promise<typeof import("./start.js")> | undefined;
export function loadStart(): Promise<typeof import("./start.js")> {
  start ??= import("./start.js");
  return start;
}
