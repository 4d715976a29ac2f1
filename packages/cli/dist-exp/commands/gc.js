import { dockerBackend } from "@clnrm/docker";
export async function gcCommand(opts) {
    const backend = dockerBackend();
    await backend.ping();
    const report = await backend.sweep({ all: opts.all ?? false, volumes: opts.all ?? false });
    process.stdout.write(`removed ${report.containers.length} container(s), ${report.networks.length} network(s), ${report.volumes.length} volume(s)\n`);
    return 0;
}
//# sourceMappingURL=gc.js.map