import { writeFile } from "node:fs/promises";
import { ValidationError, z } from "@clnrm/core";
import { listInstalledPlugins, resolvePlugin, searchRoots } from "@clnrm/marketplace";
import { serviceSchema, testFileSchema } from "@clnrm/runner";

type JsonSchema = Record<string, unknown>;
type ObjectSchema = JsonSchema & { properties?: Record<string, JsonSchema>; required?: string[]; additionalProperties?: unknown; definitions?: Record<string, JsonSchema> };

const toJson = (schema: z.ZodType): ObjectSchema =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-7" }) as ObjectSchema;

/** What the runner's own service keys mean, for the keys whose zod schema carries no description. */
const RUNNER_KEY_DOCS: Record<string, string> = {
  type: "The plugin that runs this service (generic_container, surrealdb, ... or a third-party plugin's type).",
  package: 'The package (or local path, "./plugin") that provides `type`, when it is not found by its name.',
  depends_on: "Services that must be ready before this one starts.",
  startup_timeout: 'How long the service may take to become ready ("30s", "2m" or milliseconds).',
  start_attempts: "How many times to start the service before giving up (1-20).",
};

function describedRunnerKeys(): Record<string, JsonSchema> {
  const props = toJson(serviceSchema).properties ?? {};
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.description === undefined && RUNNER_KEY_DOCS[k] ? { ...v, description: RUNNER_KEY_DOCS[k] } : v]));
}

/** A plugin's schema with its `definitions` renamed under `prefix`, so that many fit in one document. */
function hoistDefinitions(schema: ObjectSchema, prefix: string, into: Record<string, JsonSchema>): ObjectSchema {
  const { definitions, ...rest } = schema;
  if (!definitions) return rest;
  const rename = (s: unknown): ObjectSchema => JSON.parse(JSON.stringify(s).replaceAll('"#/definitions/', `"#/definitions/${prefix}`)) as ObjectSchema;
  for (const [name, def] of Object.entries(definitions)) into[`${prefix}${name}`] = rename(def);
  return rename(rest);
}

/**
 * Replaces `additionalProperties: false` in every object schema (nested ones too) by a schema that no value
 * matches: a validator then reports an unknown key once, at that key (taplo points at its line), instead of
 * once per line of the whole table; the message names the keys that are allowed there.
 */
function pointAtUnknownKeys(schema: unknown, context: string | undefined, path: readonly string[] = []): void {
  if (Array.isArray(schema)) {
    for (const s of schema) pointAtUnknownKeys(s, context, path);
    return;
  }
  if (typeof schema !== "object" || schema === null) return;
  const s = schema as ObjectSchema;
  for (const [k, v] of Object.entries(s)) {
    if (k === "properties") for (const [key, sub] of Object.entries(v as Record<string, unknown>)) pointAtUnknownKeys(sub, context, [...path, key]);
    else if (k === "items") pointAtUnknownKeys(v, context, [...path.slice(0, -1), `${path.at(-1) ?? ""}[]`]);
    else if (k === "additionalProperties") pointAtUnknownKeys(v, context, [...path, "*"]);
    else if (k !== "const" && k !== "enum" && k !== "default" && k !== "examples") pointAtUnknownKeys(v, context, path);
  }
  if (s.additionalProperties === false) {
    const where = path.length === 0 ? (context ?? "a test file's top level") : `${path.join(".")}${context ? ` of ${context}` : ""}`;
    const keys = Object.keys(s.properties ?? {});
    s.additionalProperties = { const: `no such key in ${where}${keys.length > 0 ? ` (its keys: ${keys.join(", ")})` : ""}` };
  }
}

/**
 * Every plugin key once, for completion and hover: a key one plugin takes keeps its schema (enum values,
 * nested keys, default); a key several take gets each plugin's description, labelled, and the default
 * only when they share it.
 */
function editorKeys(plugins: readonly { type: string; properties: Record<string, JsonSchema> }[], skip: ReadonlySet<string>): Record<string, JsonSchema> {
  const byKey = new Map<string, { type: string; schema: JsonSchema }[]>();
  for (const { type, properties } of plugins) {
    for (const [key, schema] of Object.entries(properties)) if (!skip.has(key)) byKey.set(key, [...(byKey.get(key) ?? []), { type, schema }]);
  }
  const out: Record<string, JsonSchema> = {};
  for (const [key, takers] of byKey) {
    const label = (types: string[]) => `*${types.join(", ")}*`;
    const descriptions = new Set(takers.map((t) => t.schema.description));
    const defaults = new Set(takers.map((t) => JSON.stringify(t.schema.default)));
    if (takers.length === 1 || new Set(takers.map((t) => JSON.stringify(t.schema))).size === 1) {
      const { schema } = takers[0]!;
      out[key] = { ...schema, description: [schema.description, label(takers.map((t) => t.type))].filter(Boolean).join("\n\n") };
    } else {
      out[key] = {
        description:
          descriptions.size === 1 && takers[0]!.schema.description !== undefined
            ? `${takers[0]!.schema.description}\n\n${label(takers.map((t) => t.type))}`
            : takers.map((t) => `${label([t.type])}: ${t.schema.description ?? "(no description)"}`).join("\n\n"),
        ...(defaults.size === 1 && takers[0]!.schema.default !== undefined ? { default: takers[0]!.schema.default } : {}),
      };
    }
  }
  return out;
}

/**
 * The test-file format as JSON Schema (draft 7), so that editors (taplo / Even Better TOML) can complete
 * and check `.clnrm.toml` files, built from the zod config schema of every installed plugin (built-in or
 * third-party), each key with the description and default of its zod schema.
 *
 * A service table is checked against its own plugin's schema only, chosen by `type` (`allOf` of
 * `if type = X then X's schema`): a misspelled key is reported once, on its line. taplo's completion and
 * hover don't follow `if`/`then` (they walk `$ref`, `anyOf`, `oneOf`, `allOf` and `properties`), so the
 * plugins' keys are also listed, once each and labelled with the plugins that take them, under an `anyOf`
 * that an empty schema always satisfies: it checks nothing, and lets the editor offer and describe them.
 */
export async function buildSchema(projectDir: string): Promise<JsonSchema> {
  const root = toJson(testFileSchema);
  const runnerKeys = describedRunnerKeys();
  const definitions: Record<string, JsonSchema> = { ...(root.definitions ?? {}) };
  const branches: JsonSchema[] = [];
  const types: string[] = [];
  const plugins: { type: string; properties: Record<string, JsonSchema> }[] = [];
  // As `clnrm plugins` lists them: the project's, the cwd's, and those beside this clnrm.
  for (const p of listInstalledPlugins(projectDir, searchRoots(projectDir))) {
    if (types.includes(p.type)) continue;
    const loaded = await resolvePlugin(p.type, { projectDir }).catch(() => undefined);
    if (!loaded) continue;
    const plugin = hoistDefinitions(toJson(loaded.definition.configSchema), `${p.type.replace(/[^A-Za-z0-9_]/g, "_")}__`, definitions);
    const description = loaded.definition.description ?? p.description;
    types.push(p.type);
    // Only a loose plugin schema (z.looseObject) accepts keys it doesn't name.
    const extra = plugin.additionalProperties;
    const then: ObjectSchema = {
      title: p.type,
      ...(description ? { description } : {}),
      type: "object",
      properties: {
        ...runnerKeys,
        ...plugin.properties,
        type: { const: p.type, description: `${p.package}${p.version ? `@${p.version}` : ""}${description ? `: ${description}` : ""}` },
      },
      required: ["type", ...(plugin.required ?? []).filter((k) => k !== "type")],
      additionalProperties: extra === true || (typeof extra === "object" && extra !== null) ? extra : false,
    };
    pointAtUnknownKeys(then, `a ${p.type} service`);
    const name = `service.${p.type.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
    definitions[name] = then;
    plugins.push({ type: p.type, properties: then.properties ?? {} });
    branches.push({
      if: { properties: { type: { const: p.type } }, required: ["type"], not: { required: ["package"] } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      then: { $ref: `#/definitions/${name}` },
    });
  }
  const service: JsonSchema = {
    type: "object",
    properties: { ...runnerKeys, type: { ...runnerKeys.type, type: "string", minLength: 1 } },
    required: ["type"],
    allOf: [
      // Without `package`, the type must be one installed here; with it, the package provides the type.
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      { if: { not: { required: ["package"] } }, then: { properties: { type: { enum: types } } } },
      ...branches,
    ],
    // For the editor only (see above): `{}` first, so that this never fails.
    // taplo leaves out a schema that has an allOf (this one) at its own path: the runner's keys go here too.
    anyOf: [{}, { properties: { ...runnerKeys, type: { ...runnerKeys.type, enum: types }, ...editorKeys(plugins, new Set(Object.keys(runnerKeys))) } }],
  };
  const services = (root.properties as Record<string, JsonSchema>).services!;
  services.additionalProperties = service;
  const { definitions: _, ...rest } = root;
  pointAtUnknownKeys(rest, undefined);
  pointAtUnknownKeys(definitions, undefined);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://clnrm.dev/schema/clnrm.schema.json",
    title: "clnrm test file (*.clnrm.toml)",
    ...rest,
    ...(Object.keys(definitions).length > 0 ? { definitions } : {}),
  };
}

export async function schemaCommand(projectDir: string, opts: { output?: string }): Promise<number> {
  const text = `${JSON.stringify(await buildSchema(projectDir), null, 2)}\n`;
  if (opts.output) {
    await writeFile(opts.output, text).catch((err: NodeJS.ErrnoException) => {
      throw new ValidationError(`can't write the schema to ${opts.output}: ${err.code === "EISDIR" ? "it is a directory" : err.code === "ENOENT" ? "its directory does not exist" : err.message}`, {
        hint: "pass --output a file path in an existing directory",
      });
    });
  } else process.stdout.write(text);
  return 0;
}
