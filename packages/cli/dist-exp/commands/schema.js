import { writeFile } from "node:fs/promises";
import { z } from "@clnrm/core";
import { listInstalledPlugins, resolvePlugin } from "@clnrm/marketplace";
import { serviceSchema, testFileSchema } from "@clnrm/runner";
const toJson = (schema) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-7" });
/**
 * The test-file format as JSON Schema (draft 7), with one branch per installed plugin built from its
 * zod config schema, so that editors can complete and check `.clnrm.toml` files.
 */
export async function buildSchema(projectDir) {
    const root = toJson(testFileSchema);
    const runnerService = toJson(serviceSchema);
    const installed = listInstalledPlugins(projectDir);
    const branches = [];
    const types = [];
    for (const p of installed) {
        const loaded = await resolvePlugin(p.type, { projectDir }).catch(() => undefined);
        if (!loaded)
            continue;
        const plugin = toJson(loaded.definition.configSchema);
        types.push(p.type);
        branches.push({
            title: p.type,
            description: loaded.definition.description,
            type: "object",
            properties: { ...runnerService.properties, ...plugin.properties, type: { const: p.type, description: `${p.package}: ${loaded.definition.description}` } },
            required: ["type", ...(plugin.required ?? [])],
            additionalProperties: false,
        });
    }
    // A type that is not installed here (a third-party plugin, say) is not checked beyond its runner keys.
    branches.push({ type: "object", properties: { ...runnerService.properties, type: { type: "string", not: { enum: types } } }, required: ["type"] });
    const services = root.properties.services;
    services.additionalProperties = { anyOf: branches };
    return {
        ...root,
        $schema: "http://json-schema.org/draft-07/schema#",
        $id: "https://clnrm.dev/schema/clnrm.schema.json",
        title: "clnrm test file (*.clnrm.toml)",
    };
}
export async function schemaCommand(projectDir, opts) {
    const text = `${JSON.stringify(await buildSchema(projectDir), null, 2)}\n`;
    if (opts.output)
        await writeFile(opts.output, text);
    else
        process.stdout.write(text);
    return 0;
}
//# sourceMappingURL=schema.js.map