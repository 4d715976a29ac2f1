import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

export const BUSYBOX = "clnrm-test/busybox:latest";
export const ALPINE = "alpine:latest";

export function newRunId(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args);
  return stdout.trim();
}

/** Ids of every container (any state) labelled with this run. */
export async function containersOf(runId: string): Promise<string[]> {
  const out = await docker("ps", "-aq", "--filter", `label=clnrm.run=${runId}`);
  return out ? out.split("\n") : [];
}

export async function networksOf(runId: string): Promise<string[]> {
  const out = await docker("network", "ls", "-q", "--filter", `label=clnrm.run=${runId}`);
  return out ? out.split("\n") : [];
}

export async function until(fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** httpd on 8080 serving `body` at / (busybox). */
export function httpdCommand(body: string): string[] {
  return ["sh", "-c", `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p 8080 -h /www`];
}
