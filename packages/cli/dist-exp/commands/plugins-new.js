import { relative } from "node:path";
import { scaffoldPlugin } from "@clnrm/marketplace";
/** `clnrm plugins new <name>`: scaffolds a plugin package (`clnrm-plugin-<name>` or `@scope/clnrm-plugin-<name>`). */
export async function pluginsNewCommand(cwd, name, opts) {
    const result = scaffoldPlugin({
        name,
        parentDir: cwd,
        ...(opts.dir ? { dirName: opts.dir } : {}),
        ...(opts.registry ? { registry: opts.registry } : {}),
    });
    const shown = relative(cwd, result.dir) || ".";
    process.stdout.write(`created ${result.packageName} (type "${result.type}") in ${shown}\n${result.files.map((f) => `  ${f}`).join("\n")}\n\n` +
        `next:\n  cd ${shown}\n  npm install\n  npm test\n`);
    return 0;
}
//# sourceMappingURL=plugins-new.js.map