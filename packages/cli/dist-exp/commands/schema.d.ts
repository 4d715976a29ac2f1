type JsonSchema = Record<string, unknown>;
/**
 * The test-file format as JSON Schema (draft 7), with one branch per installed plugin built from its
 * zod config schema, so that editors can complete and check `.clnrm.toml` files.
 */
export declare function buildSchema(projectDir: string): Promise<JsonSchema>;
export declare function schemaCommand(projectDir: string, opts: {
    output?: string;
}): Promise<number>;
export {};
//# sourceMappingURL=schema.d.ts.map