// Helpers shared by the CLI's end-to-end tests: spawn the built `clnrm` binary, and ask the engine
// what a clnrm process (by its pid label) left behind.
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";

export const bin = join(import.meta.dirname, "../dist/bin.js");

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** performance.now() when the process closed. */
  exitedAt: number;
}

export interface Started {
  pid: number;
  done: Promise<Run>;
  /** stdout so far. */
  output: () => string;
}

/** Starts `clnrm ARGS` (NO_COLOR) and returns at once. */
export function start(args: string[], options: { env?: Record<string, string>; onStdout?: (chunk: string, pid: number) => void } = {}): Started {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1", ...options.env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    options.onStdout?.(d.toString(), child.pid!);
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Run>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, pid: child.pid!, exitedAt: performance.now() }));
  });
  return { pid: child.pid!, done, output: () => stdout };
}

/** Runs `clnrm ARGS` to the end. */
export const clnrm = (args: string[], options?: Parameters<typeof start>[1]): Promise<Run> => start(args, options).done;

export function docker(args: string[]): string[] {
  return execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** Containers (any state) and networks a clnrm process left, by its pid label (and extra labels). */
export function leftBy(pid: number, extraLabels: string[] = []): string[] {
  const filter = ["--filter", `label=clnrm.pid=${pid}`, ...extraLabels.flatMap((l) => ["--filter", `label=${l}`])];
  return [...docker(["ps", "-aq", ...filter]), ...docker(["network", "ls", "-q", ...filter])];
}
