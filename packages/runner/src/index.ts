export { loadDocument, parseDocument, MAX_FILE_BYTES, type SourceDocument } from "./load.js";
export {
  loadTestFile,
  defaultResolver,
  planTest,
  registerPlanSecrets,
  startWaves,
  validateStructure,
  type PluginResolver,
  type ResolvedPlugin,
  type ServicePlan,
  type TestPlan,
} from "./plan.js";
export { findReferences, interpolate, type Reference } from "./refs.js";
export { type CriticalPathEntry, newRunId, runTest, ServiceSet, type RunEvent, type RunOptions, type ServiceResult, type TestResult } from "./run.js";
export { knownKeysAt, testFileSchema, stepSchema, serviceSchema, metaSchema, RUNNER_SERVICE_KEYS, type TestFile, type StepConfig } from "./schema.js";
export { checkExpectations, execOnHost, runStep, type StepResult } from "./steps.js";
export { RunningServices, startServices, type StartServicesOptions } from "./api.js";
export {
  checkSpanExpectations,
  evaluateSpanExpectation,
  spanExpectationSchema,
  spanExpectationsSchema,
  validateSpanCollectors,
  type CollectedSpan,
  type SpanExpectation,
  type SpanExpectationResult,
} from "./spans.js";
