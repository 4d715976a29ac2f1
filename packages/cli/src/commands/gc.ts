import { dockerBackend } from "@clnrm/docker";

/**
 * Removes what dead runs left: their containers, networks and unused scratch volumes. Model caches
 * (volumes labelled clnrm.keep=true) and live runs' resources go only with --all.
 */
export async function gcCommand(opts: { all?: boolean }): Promise<number> {
  const backend = dockerBackend();
  await backend.ping();
  const report = await backend.sweep({ all: opts.all ?? false, volumes: true });
  process.stdout.write(
    `removed ${report.containers.length} container(s), ${report.networks.length} network(s), ${report.volumes.length} volume(s)\n`,
  );
  return 0;
}
