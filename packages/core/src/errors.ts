// The error family is part of the plugin contract: it lives in @clnrm/plugin-api (one class per
// kind in every process, whichever package a plugin imports it from).
export * from "@clnrm/plugin-api/errors";
