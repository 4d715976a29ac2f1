import { dirname, resolve } from "node:path";
import {
  CleanroomError,
  type ConfigIssue,
  describeZodIssues,
  didYouMean,
  formatPath,
  parsePort,
  capabilityOf,
  type PluginDefinition,
  registerSecret,
  SECRET_ENV_RE,
  sensitiveMountIssues,
  ValidationError,
  type VolumeConfig,
  type z,
} from "@clnrm/core";
import { resolvePlugin } from "@clnrm/marketplace";
import { type SourceDocument, loadDocument } from "./load.js";
import { findMalformedReferences, findReferences, type Reference } from "./refs.js";
import { type SpanExpectation, validateSpanCollectors } from "./spans.js";
import { knownKeysAt, RUNNER_SERVICE_KEYS, type StepConfig, type TestFile, testFileSchema } from "./schema.js";

export interface ResolvedPlugin {
  readonly definition: PluginDefinition;
  /** The package it came from (or the explicit path). */
  readonly package: string;
  readonly version: string | undefined;
}

/** Turns a service `type` into a plugin definition. `@clnrm/marketplace` provides the default. */
export interface PluginResolver {
  resolve(type: string, options: { projectDir: string; explicitPackage?: string }): Promise<ResolvedPlugin>;
}

export interface ServicePlan {
  readonly name: string;
  readonly type: string;
  readonly plugin: ResolvedPlugin;
  /** The plugin's part of the service table (runner keys removed), before interpolation. */
  readonly raw: Record<string, unknown>;
  /** Explicit depends_on plus services referenced as ${services.NAME.KEY}. */
  readonly dependsOn: readonly string[];
  readonly startupTimeoutMs: number | undefined;
  readonly startAttempts: number | undefined;
}

export interface TestPlan {
  readonly file: string;
  readonly displayName: string;
  readonly baseDir: string;
  readonly name: string;
  readonly meta: TestFile["meta"];
  readonly services: ReadonlyMap<string, ServicePlan>;
  /** Start order: each wave's services start in parallel once the previous waves run. */
  readonly waves: readonly (readonly string[])[];
  readonly steps: readonly StepConfig[];
  /** `[[expect.spans]]`: checked after the steps, before teardown. */
  readonly spans: readonly SpanExpectation[];
  /**
   * The secret values the file holds (plugin fields marked secret, env values named like secrets).
   * Planning registers nothing: `registerPlanSecrets` does, when the run starts.
   */
  readonly secrets: readonly string[];
  readonly doc: SourceDocument;
}

/** Resolves types with `@clnrm/marketplace` from the test file's project. */
export const defaultResolver: PluginResolver = { resolve: (type, options) => resolvePlugin(type, options) };

/** Parses a test file and checks its structure (no plugin resolution). */
export async function loadTestFile(file: string): Promise<{ doc: SourceDocument; test: TestFile }> {
  const doc = await loadDocument(resolve(file));
  return { doc, test: validateStructure(doc) };
}

/** Checks the file's structure; what is wrong in it is reported together with the checks of every value (NULs, malformed references). */
export function validateStructure(doc: SourceDocument): TestFile {
  const parsed = testFileSchema.safeParse(doc.value);
  if (!parsed.success) throw combineProblems([...issueErrors(doc, parsed.error, [], knownKeysAt), ...valueProblems(doc)])!;
  return parsed.data;
}

/**
 * The parts of a file whose structure is right, each wrong part replaced by its default (no
 * services, no steps). With wrong services nothing else is checked: every step would seem to name
 * a missing service.
 */
function partialTestFile(value: Record<string, unknown>): TestFile {
  const shape = testFileSchema.shape;
  const part = <K extends keyof typeof shape>(key: K): z.output<(typeof shape)[K]> => {
    const r = shape[key].safeParse(value[key]);
    return (r.success ? r.data : shape[key].parse(undefined)) as z.output<(typeof shape)[K]>;
  };
  const services = shape.services.safeParse(value.services);
  if (!services.success) return testFileSchema.parse({});
  return { meta: part("meta"), services: services.data, steps: part("steps"), expect: part("expect") };
}

/** Checks of the document's values that need no plugin: NUL characters, and `${...}` that are not references. */
function valueProblems(doc: SourceDocument): ValidationError[] {
  const out = nulProblems(doc);
  const services = doc.value.services;
  const steps = doc.value.steps;
  const places: [(string | number)[], unknown][] = [];
  if (services && typeof services === "object" && !Array.isArray(services)) for (const [n, v] of Object.entries(services)) places.push([["services", n], v]);
  if (Array.isArray(steps)) {
    steps.forEach((st, i) => {
      const s = st as Record<string, unknown> | null;
      if (s && typeof s === "object") places.push([["steps", i], { command: s.command, env: s.env, http: s.http }]);
    });
  }
  for (const [prefix, value] of places) {
    for (const bad of findMalformedReferences(value)) {
      const path = [...prefix, ...bad.path];
      out.push(new ValidationError(`${formatPath(path)}: ${bad.message}`, { location: doc.locate(path) }));
    }
  }
  return out;
}

/**
 * One error for every problem found: the first one's message and position, each further problem
 * on a line of its own (`file:line:col: message`), so that a file's problems are reported at once.
 */
export function combineProblems(problems: readonly CleanroomError[]): CleanroomError | undefined {
  const [first, ...rest] = problems;
  if (!first || rest.length === 0) return first;
  const head = first.hint ? `${first.message} (${first.hint})` : first.message;
  return new ValidationError([head, ...rest.map((p) => p.format())].join("\n"), first.location ? { location: first.location } : {});
}

/**
 * A plugin's schema can only resolve a relative bind mount (`./x:/x`) against the cwd. Bind mounts
 * are made relative to the test file, so the mounts of any config with core's `volumes` fragment
 * are checked again here, from the file's directory.
 */
function checkRelativeMounts(doc: SourceDocument, service: string, config: unknown, baseDir: string): ValidationError[] {
  const c = config as { volumes?: unknown; allow_sensitive_mounts?: unknown } | null;
  if (!Array.isArray(c?.volumes) || !c.volumes.every(isVolumeConfig)) return [];
  return sensitiveMountIssues({ volumes: c.volumes, allow_sensitive_mounts: c.allow_sensitive_mounts === true }, baseDir).map((issue) => {
    const path = ["services", service, "volumes", issue.index];
    return new ValidationError(`${formatPath(path)}: ${issue.message}`, { location: doc.locate(path) });
  });
}

function isVolumeConfig(v: unknown): v is VolumeConfig {
  const o = v as Partial<VolumeConfig> | null;
  return typeof o?.source === "string" && typeof o.named === "boolean";
}

/** Every issue of a zod error, each with its position. */
function issueErrors(
  doc: SourceDocument,
  error: z.ZodError,
  prefix: (string | number)[],
  known?: (path: (string | number)[]) => string[],
): ValidationError[] {
  // An unknown key usually explains the table's other complaints (a misspelt required key is also
  // "missing"; a misspelt fault leaves "no fault configured"): those are left out.
  const unknownIn = error.issues.filter((i) => i.code === "unrecognized_keys").map((i) => JSON.stringify(i.path));
  const explained = (issue: ConfigIssue) => {
    if (unknownIn.length === 0 || issue.message.startsWith("unknown key")) return false;
    const at = (path: readonly (string | number)[]) => unknownIn.includes(JSON.stringify(path));
    return at(issue.path) || (at(issue.path.slice(0, -1)) && /^Invalid input: expected \w+, received undefined$/.test(issue.message));
  };
  const issues = describeZodIssues(error, known).filter((i) => !explained(i));
  const seen = new Set<string>();
  const out = (issues.length ? issues : [undefined]).map((issue) => {
    const path = [...prefix, ...(issue?.path ?? [])];
    const where = path.length ? `${formatPath(path)}: ` : "";
    return new ValidationError(`${where}${plainMessage(error, issue)}`, { location: doc.locate(path) });
  });
  return out.filter((e) => !seen.has(e.message) && seen.add(e.message));
}

/** zod's wording where it is unhelpful: a missing key ("received undefined"), a value that fits no branch of a union ("Invalid input"). */
function plainMessage(error: z.ZodError, first: { path: (string | number)[]; message: string } | undefined): string {
  if (!first) return "invalid value";
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(first.message);
  if (missing) return `missing required key${first.path.length ? ` '${first.path[first.path.length - 1]}'` : ""} (a ${missing[1]})`;
  if (first.message !== "Invalid input") return first.message;
  const union = error.issues.find((i) => i.code === "invalid_union" && JSON.stringify(i.path) === JSON.stringify(first.path));
  const branches = union && "errors" in union && Array.isArray(union.errors) ? (union.errors as z.core.$ZodIssue[][]) : [];
  const expected = [...new Set(branches.flatMap((b) => b.filter((i) => i.code === "invalid_type" && i.path.length === 0).map((i) => (i as { expected: string }).expected)))];
  return expected.length ? `invalid value: expected ${expected.join(" or ")}` : "invalid value";
}

/**
 * Loads a test file, resolves every service's plugin, validates each service's config against its
 * plugin's schema, checks step and reference targets, and orders services into start waves.
 * Nothing is started.
 */
export async function planTest(file: string, resolver: PluginResolver = defaultResolver): Promise<TestPlan> {
  const doc = await loadDocument(resolve(file));
  const baseDir = dirname(doc.file);
  // Every problem is collected, across services and steps, and reported at once: a part of the file
  // whose structure is wrong is reported and left out, and the others are still checked.
  const problems: CleanroomError[] = [];
  const parsed = testFileSchema.safeParse(doc.value);
  if (!parsed.success) problems.push(...issueErrors(doc, parsed.error, [], knownKeysAt));
  const test = parsed.success ? parsed.data : partialTestFile(doc.value);
  const names = Object.keys(test.services);
  const collect = (check: () => void) => {
    try {
      check();
    } catch (err) {
      if (!(err instanceof CleanroomError && err.userFacing)) throw err;
      problems.push(err);
    }
  };

  const resolved = await Promise.all(
    names.map(async (name) => {
      const svc = test.services[name]!;
      try {
        return await resolver.resolve(svc.type, { projectDir: baseDir, ...(svc.package ? { explicitPackage: svc.package } : {}) });
      } catch (err) {
        if (err instanceof CleanroomError && err.userFacing) {
          problems.push(err.location ? err : err.at(doc.locate(["services", name, svc.package ? "package" : "type"])));
          return undefined;
        }
        throw err;
      }
    }),
  );

  problems.push(...valueProblems(doc));

  const services = new Map<string, ServicePlan>();
  /** Validated configs, for the checks across services below. */
  const configs = new Map<string, unknown>();
  /** Every `${services.X.Y}` of the file, where it is written. */
  const references: { ref: Reference; at: (string | number)[] }[] = [];
  const chaosServices = new Set(names.filter((_, i) => resolved[i]?.definition.role === "chaos"));
  names.forEach((name, i) => {
    const svc = test.services[name]!;
    const plugin = resolved[i];
    if (!plugin) return;
    const raw = Object.create(null) as Record<string, unknown>;
    const source = (doc.value.services as Record<string, Record<string, unknown>>)[name]!;
    for (const [k, v] of Object.entries(source)) if (!(RUNNER_SERVICE_KEYS as readonly string[]).includes(k)) raw[k] = v;

    const result = plugin.definition.configSchema.safeParse(raw);
    if (!result.success) {
      const pluginKeys = shapeKeys(plugin.definition.configSchema);
      problems.push(...issueErrors(doc, result.error, ["services", name], (p) => (p.length === 0 ? [...pluginKeys, ...RUNNER_SERVICE_KEYS] : shapeKeys(plugin.definition.configSchema, p))));
      return;
    }
    configs.set(name, result.data);
    problems.push(...checkRelativeMounts(doc, name, result.data, baseDir));
    for (const issue of plugin.definition.check?.(result.data, { service: name, baseDir }) ?? []) {
      const path = ["services", name, ...issue.path];
      problems.push(new ValidationError(`${formatPath(path)}: ${issue.message}`, { location: doc.locate(path) }));
    }
    const deps = new Set(svc.depends_on);
    const refs = plugin.definition.serviceRefs?.(result.data) ?? [];
    refs.forEach((ref) => {
      collect(() => checkService(doc, names, ref, ["services", name, ...refPath(source, ref)], name));
      deps.add(ref);
    });
    // A chaos service acts on running services: it starts after every non-chaos service.
    if (plugin.definition.role === "chaos") {
      for (const other of names) if (other !== name && !chaosServices.has(other)) deps.add(other);
    }
    for (const dep of svc.depends_on) collect(() => checkService(doc, names, dep, ["services", name, "depends_on"], name));
    for (const ref of findReferences(raw)) {
      collect(() => checkService(doc, names, ref.service, ["services", name, ...ref.path], name));
      references.push({ ref, at: ["services", name, ...ref.path] });
      deps.add(ref.service);
    }
    deps.delete(name);
    services.set(name, {
      name,
      type: svc.type,
      plugin,
      raw,
      dependsOn: [...deps],
      startupTimeoutMs: svc.startup_timeout,
      startAttempts: svc.start_attempts,
    });
  });

  test.steps.forEach((step, i) => {
    if (step.service !== undefined) {
      collect(() => checkService(doc, names, step.service!, ["steps", i, "service"]));
      if (chaosServices.has(step.service)) {
        problems.push(new ValidationError(`steps[${i}].service: '${step.service}' is a chaos service; steps run in the services it targets`, {
          location: doc.locate(["steps", i, "service"]),
        }));
      }
    }
    const stepRaw = (doc.value.steps as Record<string, unknown>[])[i]!;
    for (const ref of findReferences({ command: stepRaw.command, env: stepRaw.env, http: stepRaw.http })) {
      collect(() => checkService(doc, names, ref.service, ["steps", i, ...ref.path]));
      references.push({ ref, at: ["steps", i, ...ref.path] });
    }
  });

  problems.push(...outputProblems(doc, services, configs, references));
  problems.push(...hostPortProblems(doc, services));

  // Span collectors: the services whose plugin provides the spanSink capability.
  const collectors = names.filter((name, i) => {
    const definition = resolved[i]?.definition;
    try {
      return definition !== undefined && capabilityOf(definition, "spanSink") !== undefined;
    } catch (err) {
      if (!(err instanceof CleanroomError && err.userFacing)) throw err;
      problems.push(err.location ? err : err.at(doc.locate(["services", name, "type"])));
      return true; // It means to be one: the broken capability is the one problem to report.
    }
  });
  for (const problem of validateSpanCollectors(test.expect.spans, collectors)) {
    problems.push(new ValidationError(`expect.spans[${problem.index}]: ${problem.message}`, { location: doc.locate(["expect", "spans", problem.index]) }));
  }
  // A dependency cycle is only meaningful among services whose configs are valid.
  let waves: string[][] = [];
  if (problems.length === 0) collect(() => (waves = startWaves(services, doc)));
  const problem = combineProblems(problems);
  if (problem) throw problem;

  return {
    file: doc.file,
    displayName: doc.displayName,
    baseDir,
    name: test.meta.name ?? doc.displayName,
    meta: test.meta,
    services,
    waves,
    steps: test.steps,
    spans: test.expect.spans,
    secrets: planSecrets(services, test),
    doc,
  };
}

/** A NUL character cannot reach a container (Docker and exec take C strings): every string and key that holds one. */
function nulProblems(doc: SourceDocument): ValidationError[] {
  const out: ValidationError[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") {
      if (value.includes("\u0000")) out.push(new ValidationError(`${formatPath(path)}: the value contains a NUL character (\\u0000); remove it`, { location: doc.locate(path) }));
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, i]);
    } else if (value && typeof value === "object" && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes("\u0000")) out.push(new ValidationError(`${formatPath(path) || "the file"}: a key contains a NUL character (\\u0000); remove it`, { location: doc.locate([...path, k]) }));
        walk(v, [...path, k]);
      }
    }
  };
  walk(doc.value, []);
  return out;
}

/** `${services.X.Y}` where X's plugin declares its outputs and Y is not one of them. */
function outputProblems(
  doc: SourceDocument,
  services: ReadonlyMap<string, ServicePlan>,
  configs: ReadonlyMap<string, unknown>,
  references: readonly { ref: Reference; at: (string | number)[] }[],
): ValidationError[] {
  const declared = new Map<string, readonly string[]>();
  for (const [name, svc] of services) {
    const list = svc.plugin.definition.outputs?.(configs.get(name));
    if (list) declared.set(name, list);
  }
  return references.flatMap(({ ref, at }) => {
    const outputs = declared.get(ref.service);
    if (!outputs || outputs.includes(ref.output)) return [];
    const hint = didYouMean(ref.output, outputs);
    return [
      new ValidationError(`${formatPath(at)}: service '${ref.service}' has no output '${ref.output}'`, {
        location: doc.locate(at),
        hint: hint ? `did you mean '${hint}'?` : outputs.length ? `its outputs: ${outputs.join(", ")}` : `a ${services.get(ref.service)!.type} service has no outputs`,
      }),
    ];
  });
}

/** Two services (or two mappings) that would bind the same fixed host port: the second could not start. */
function hostPortProblems(doc: SourceDocument, services: ReadonlyMap<string, ServicePlan>): ValidationError[] {
  const taken = new Map<string, (string | number)[]>();
  const out: ValidationError[] = [];
  for (const [name, svc] of services) {
    const ports = svc.raw.ports;
    if (!Array.isArray(ports)) continue;
    ports.forEach((p, i) => {
      if (typeof p !== "string") return;
      const spec = parsePort(p);
      if (typeof spec === "string" || spec.host === undefined) return;
      const id = `${spec.host}/${spec.protocol ?? "tcp"}`;
      const path = ["services", name, "ports", i];
      const first = taken.get(id);
      if (!first) {
        taken.set(id, path);
        return;
      }
      const where = doc.locate(first);
      out.push(
        new ValidationError(`${formatPath(path)}: host port ${spec.host}${spec.protocol === "udp" ? "/udp" : ""} is already mapped by ${formatPath(first)} (line ${where.line ?? "?"})`, {
          location: doc.locate(path),
          hint: `use another host port, or "${spec.container}" for one the engine picks`,
        }),
      );
    });
  }
  return out;
}

/** Every secret the file holds: plugin fields marked secret (a field may be a dotted path: "auth.pass"), and env values named like secrets. */
function planSecrets(services: ReadonlyMap<string, ServicePlan>, test: TestFile): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string" ? v !== "" : typeof v === "number" || typeof v === "bigint") out.add(String(v));
  };
  const fromEnv = (env: unknown) => {
    if (env && typeof env === "object") for (const [k, v] of Object.entries(env)) if (SECRET_ENV_RE.test(k)) add(v);
  };
  for (const svc of services.values()) {
    for (const field of svc.plugin.definition.secretFields ?? []) {
      add(field.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), svc.raw));
    }
    fromEnv(svc.raw.env);
  }
  for (const step of test.steps) fromEnv(step.env);
  return [...out];
}

/** Registers a plan's secrets with the process's redaction (the run loop does, as a run starts). */
export function registerPlanSecrets(plan: Pick<TestPlan, "secrets">): void {
  for (const s of plan.secrets) registerSecret(s);
}

/** Where in a service table a referenced service name is written, for error locations. */
function refPath(table: Record<string, unknown>, ref: string): (string | number)[] {
  for (const [k, v] of Object.entries(table)) {
    if (v === ref) return [k];
    if (Array.isArray(v) && v.includes(ref)) return [k, v.indexOf(ref)];
  }
  return [];
}

/** The keys of the object schema at `path` inside `schema` (through optional, default and transform wrappers). */
function shapeKeys(schema: z.ZodType, path: readonly (string | number)[] = []): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (let i = 0; i < 10 && s; i++) {
      const def = (s as { def?: { type?: string; in?: unknown; innerType?: unknown } }).def;
      if (def?.type === "pipe") s = def.in;
      else if (def?.innerType) s = def.innerType;
      else break;
    }
  };
  unwrap();
  for (const key of path) {
    s = (s as { shape?: Record<string, unknown> } | undefined)?.shape?.[String(key)];
    unwrap();
  }
  const shape = (s as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

function checkService(doc: SourceDocument, names: string[], target: string, path: (string | number)[], self?: string): void {
  if (target === self) {
    throw new ValidationError(`${formatPath(path)}: service '${self}' cannot depend on itself`, { location: doc.locate(path) });
  }
  if (!names.includes(target)) {
    const hint = didYouMean(target, names);
    throw new ValidationError(`${formatPath(path)}: no service named '${target}'`, {
      location: doc.locate(path),
      hint: hint ? `did you mean '${hint}'?` : names.length ? `services in this file: ${names.join(", ")}` : "this file defines no [services]",
    });
  }
}

/** Kahn's algorithm, wave by wave. A cycle is reported with its path: a → b → a. */
export function startWaves(services: ReadonlyMap<string, Pick<ServicePlan, "dependsOn">>, doc?: SourceDocument): string[][] {
  const remaining = new Map([...services].map(([n, s]) => [n, new Set(s.dependsOn)]));
  const waves: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([n]) => n);
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      throw new ValidationError(`dependency cycle: ${cycle.join(" → ")}`, {
        ...(doc ? { location: doc.locate(["services", cycle[0]!]) } : {}),
        hint: "remove one depends_on or ${services...} reference in the cycle",
      });
    }
    ready.sort();
    waves.push(ready);
    for (const n of ready) remaining.delete(n);
    for (const deps of remaining.values()) for (const n of ready) deps.delete(n);
  }
  return waves;
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()].sort()[0]!;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let node: string | undefined = start;
  while (node !== undefined && !seen.has(node)) {
    seen.set(node, path.length);
    path.push(node);
    node = [...(graph.get(node) ?? [])].sort().find((d) => graph.has(d));
  }
  if (node === undefined) return path;
  return [...path.slice(seen.get(node)), node];
}
