import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import { type LiveRun, dockerBackend } from "@clnrm/docker";

export interface GcOptions {
  all?: boolean;
  yes?: boolean;
}

/** Where gc asks its question; the CLI's own terminal unless a test passes another. */
export interface GcIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/**
 * Removes what dead runs left: their containers, networks and unused scratch volumes. With --all,
 * also live runs' resources (asked first: --yes answers yes; without a terminal, --yes is required)
 * and kept volumes (model caches, volumes marked `keep`). Says what could not be removed: exit 1, unless
 * only the engine's restart can remove it (a warning that says so).
 */
export async function gcCommand(opts: GcOptions, io: GcIo = process): Promise<number> {
  const backend = dockerBackend();
  await backend.ping();
  const all = opts.all ?? false;
  if (all && !opts.yes) {
    const live = await backend.liveRuns();
    if (live.length) {
      const what = describeLive(live);
      if (!io.stdin.isTTY || !io.stdout.isTTY) {
        io.stderr.write(`error: clnrm gc --all would remove ${what}; pass --yes to remove them, or run clnrm gc without --all to keep them\n`);
        return 2;
      }
      const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: false });
      const answer = await rl.question(`clnrm gc --all will remove ${what}. Remove them? [y/N] `).finally(() => rl.close());
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.stdout.write("nothing removed\n");
        return 1;
      }
    }
  }
  const report = await backend.sweep({ all, volumes: true });
  io.stdout.write(
    `removed ${report.containers.length} container(s), ${report.networks.length} network(s), ${report.volumes.length} volume(s)\n`,
  );
  for (const line of report.failed) io.stderr.write(`error: ${line}\n`);
  // Left by the engine's own bookkeeping: gc did all it can, the engine must restart (said in the line).
  for (const line of report.stuck) io.stderr.write(`warning: ${line}\n`);
  return report.failed.length ? 1 : 0;
}

/** "the resources of 2 live run(s) (run ab12cd34, pid 4242: 3 container(s), 1 network(s); ...)" */
function describeLive(live: readonly LiveRun[]): string {
  const runs = live.slice(0, 3).map((r) => {
    const owner = r.pid === undefined ? "no pid" : `pid ${r.pid}`;
    const where = r.host && r.host !== hostname() ? ` on ${r.host}` : "";
    const counts = [
      r.containers.length ? `${r.containers.length} container(s)` : "",
      r.networks.length ? `${r.networks.length} network(s)` : "",
      r.volumes.length ? `${r.volumes.length} volume(s)` : "",
    ].filter(Boolean);
    return `run ${r.runId}, ${owner}${where}: ${counts.join(", ")}`;
  });
  const more = live.length > 3 ? `; and ${live.length - 3} more` : "";
  return `the resources of ${live.length} live run(s) (${runs.join("; ")}${more})`;
}
