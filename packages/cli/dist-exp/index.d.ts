export { main, program, EXIT } from "./main.js";
export { HumanReporter, JsonReporter, type Reporter } from "./report.js";
export { collectTestFiles } from "./files.js";
//# sourceMappingURL=index.d.ts.map