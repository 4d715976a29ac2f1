export { main, program, EXIT } from "./main.js";
export { HumanReporter, JsonReporter } from "./report.js";
export { collectTestFiles } from "./files.js";
//# sourceMappingURL=index.js.map