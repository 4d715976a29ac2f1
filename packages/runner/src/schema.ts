import { commandSchema, durationSchema, envSchema, userRegexSchema, z } from "@clnrm/core";
import { expectedBodyRegexSchema, expectedHeadersSchema, expectedJsonSchema, expectedStatusSchema, httpRequestSchema } from "./http-step.js";
import { spanExpectationSchema, spanExpectationsSchema } from "./spans.js";

/** Service keys the runner owns; everything else in a service table belongs to the plugin. */
export const RUNNER_SERVICE_KEYS = ["type", "package", "depends_on", "startup_timeout", "start_attempts"] as const;

const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;
const name = z.string().regex(SERVICE_NAME, "use letters, digits, '-' and '_'");

export const serviceSchema = z.looseObject({
  type: z.string().min(1, "type must not be empty"),
  package: z.string().min(1).optional(),
  depends_on: z.array(name).default([]),
  startup_timeout: durationSchema.optional(),
  start_attempts: z.number().int().min(1).max(20).optional(),
});

const regex = userRegexSchema("m");

/** Keys only a command step takes, and keys only an http step takes (see http-step.ts). */
const COMMAND_ONLY = ["service", "image", "env", "workdir", "expected_output_regex", "expected_stderr_regex"] as const;
const HTTP_ONLY = ["expected_status", "expected_json", "expected_body_regex", "expected_headers"] as const;

export const stepSchema = z.strictObject({
  name: z.string().min(1, "a step needs a name"),
  /** Exec in this service's container; without it the step runs on the host. */
  service: name.optional(),
  /** Run the step in a throwaway container of this image that shares the service's network (localhost is the service). */
  image: z.string().trim().min(1, "image must not be empty").optional(),
  command: commandSchema.optional(),
  /** A request clnrm makes from the host instead of a command: { method, url, headers, body | json }. */
  http: httpRequestSchema.optional(),
  env: envSchema.default({}),
  workdir: z.string().min(1).optional(),
  expected_output_regex: regex.optional(),
  expected_stderr_regex: regex.optional(),
  expected_exit_code: z.number().int().min(0).max(255).default(0),
  expected_status: expectedStatusSchema.optional(),
  expected_json: expectedJsonSchema.optional(),
  expected_body_regex: expectedBodyRegexSchema.optional(),
  expected_headers: expectedHeadersSchema.optional(),
  timeout: durationSchema.default(60_000),
  retries: z.number().int().min(0).max(100).default(0),
  retry_interval: durationSchema.default(1_000),
  continue_on_failure: z.boolean().default(false),
}).superRefine((step, ctx) => {
  if (step.http === undefined && step.command === undefined) {
    ctx.addIssue({ code: "custom", path: [], message: "a step needs a command (or an http request: http = { url = \"…\" })" });
    return;
  }
  if (step.http !== undefined && step.command !== undefined) {
    ctx.addIssue({ code: "custom", path: ["http"], message: "a step has either command or http, not both: split it into two steps" });
    return;
  }
  const [kind, other, hint] = step.http
    ? (["an http step", COMMAND_ONLY, "an http step runs from the host; check its response with expected_status, expected_json, expected_body_regex, expected_headers"] as const)
    : (["a command step", HTTP_ONLY, "these check an http step's response: add http = { url = \"…\" } instead of command"] as const);
  for (const key of other) if (step[key] !== undefined && !(key === "env" && Object.keys(step.env).length === 0)) ctx.addIssue({ code: "custom", path: [key], message: `${key} does not apply to ${kind} (${hint})` });
});

/** `expected_exit_code` has a default, so only the raw table can tell that an http step sets it. */
function exitCodeOnHttpStep(step: unknown, ctx: z.core.$RefinementCtx): unknown {
  const s = step as Record<string, unknown> | null;
  if (s && typeof s === "object" && s.http !== undefined && s.expected_exit_code !== undefined) {
    ctx.addIssue({ code: "custom", path: ["expected_exit_code"], message: "expected_exit_code does not apply to an http step (check its response with expected_status)" });
  }
  return step;
}

export const metaSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  tags: z.array(z.string().min(1)).default([]),
  timeout: durationSchema.optional(),
});

export const testFileSchema = z.strictObject({
  meta: metaSchema.default({ tags: [] }),
  // Keys are checked here rather than by z.record(name, ...), whose issue ("Invalid key in record") drops the message.
  services: z
    .record(z.string(), serviceSchema)
    .superRefine((services, ctx) => {
      for (const key of Object.keys(services)) {
        if (!SERVICE_NAME.test(key)) {
          ctx.addIssue({ code: "custom", path: [key], message: `invalid service name ${JSON.stringify(key)}: use letters, digits, '-' and '_', starting with a letter or digit` });
        }
      }
    })
    .default({}),
  steps: z.array(z.preprocess(exitCodeOnHttpStep, stepSchema)).default([]),
  /** Assertions on what the system under test reported: `[[expect.spans]]`. */
  expect: z.strictObject({ spans: spanExpectationsSchema.default([]) }).default({ spans: [] }),
});

export type TestFile = z.output<typeof testFileSchema>;
export type StepConfig = z.output<typeof stepSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;

/** Valid keys at a path of the test file, for "did you mean" suggestions. */
export function knownKeysAt(path: readonly (string | number)[]): string[] {
  if (path.length === 0) return Object.keys(testFileSchema.shape);
  if (path[0] === "meta" && path.length === 1) return Object.keys(metaSchema.shape);
  if (path[0] === "steps" && path.length === 2) return Object.keys(stepSchema.shape);
  if (path[0] === "steps" && path.length === 3 && path[2] === "http") return ["method", "url", "headers", "body", "json"];
  if (path[0] === "expect" && path.length === 1) return ["spans"];
  if (path[0] === "expect" && path[1] === "spans" && path.length === 3) return Object.keys(spanExpectationSchema.shape);
  return [];
}

