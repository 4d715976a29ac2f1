// The capability contract (span sink, ...) lives in @clnrm/plugin-api: a plugin declares a
// capability against it, the runner and the CLI ask for it through `capabilityOf`.
export * from "@clnrm/plugin-api/capabilities";
