// The container types are part of the plugin contract: they live in @clnrm/plugin-api.
export type * from "@clnrm/plugin-api/spec";

/** Label keys every clnrm resource carries. */
export const LABELS = {
  run: "clnrm.run",
  service: "clnrm.service",
  pid: "clnrm.pid",
  host: "clnrm.host",
  startedAt: "clnrm.started-at",
  managed: "clnrm.managed",
  keep: "clnrm.keep",
} as const;
