// The labels clnrm puts on what it creates, and the names it gives run-scoped volumes.
import { hostname } from "node:os";
import { LABELS } from "@clnrm/core";

/** On a run-scoped volume: the volume's name as the test file wrote it. */
export const VOLUME_LABEL = "clnrm.volume";

/** A named volume clnrm made for one run: `name` scoped to the run, unless the mount is kept (clnrm.keep=true). */
export function runVolumeName(runId: string, name: string): string {
  return `clnrm-${runId}-${name}`;
}

/** The labels clnrm puts on every container of a run (network and volume labels are a subset). */
export function labelsFor(runId: string, service?: string): Record<string, string> {
  return {
    [LABELS.managed]: "true",
    [LABELS.run]: runId,
    ...(service === undefined ? {} : { [LABELS.service]: service }),
    [LABELS.pid]: String(process.pid),
    [LABELS.host]: hostname(),
  };
}
