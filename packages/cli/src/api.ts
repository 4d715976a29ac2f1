// `@clnrm/cli/api`: the programmatic API from the package a user installs (`npm install -D @clnrm/cli`),
// so a vitest file needs no undeclared dependency on @clnrm/runner or @clnrm/core.
//
//     import { startServices } from "@clnrm/cli/api";
//     await using env = await startServices("tests/web.clnrm.toml");
//     const res = await fetch(`${env.output("web", "url")}/health`);
import { addCliDir } from "@clnrm/marketplace/list";

// Plugins that come with the CLI (generic_container) resolve from beside it, as for the `clnrm`
// binary: under pnpm's strict layout a user's project cannot see the CLI's own dependencies.
addCliDir(import.meta.dirname);

export { RunningServices, startServices, type RunEvent, type StartServicesOptions } from "@clnrm/runner";
export {
  CleanroomError,
  ContainerError,
  HealthError,
  PluginNotFoundError,
  TimeoutError,
  ValidationError,
  type ExecOptions,
  type ExecResult,
  type Outputs,
  type RunningContainer,
} from "@clnrm/core";
