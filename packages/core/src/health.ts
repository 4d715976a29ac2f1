// HealthStatus and the container-exit error are part of the plugin contract (@clnrm/plugin-api).
export * from "@clnrm/plugin-api/health";
