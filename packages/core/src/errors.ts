/**
 * The CleanroomError family. Every error clnrm raises on purpose is one of these, with a stable
 * `code` that tools and tests can match on. `userFacing` errors are printed as one line (message,
 * location and hint) without a stack trace; anything else is a bug and keeps its stack.
 */
export type ErrorCode =
  | "validation"
  | "plugin_not_found"
  | "container"
  | "timeout"
  | "health"
  | "internal";

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface CleanroomErrorOptions {
  /** What to do about it: shown after the message. */
  hint?: string;
  /** Where in a user's file the problem is. */
  location?: SourceLocation;
  /** The service the error concerns, if any. */
  service?: string;
  cause?: unknown;
  /**
   * The machine lacks something the test needs (an image, a reachable engine, a GPU runtime): the
   * CLI exits 2 for it as for bad input, and a service start is not retried.
   */
  environment?: boolean;
}

export class CleanroomError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly service: string | undefined;
  /** True when the error is about the user's input or environment, not a bug in clnrm. */
  readonly userFacing: boolean;
  /** True when the machine lacks something (see CleanroomErrorOptions.environment). */
  readonly environment: boolean;

  constructor(code: ErrorCode, message: string, options: CleanroomErrorOptions = {}, userFacing = true) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
    this.service = options.service;
    this.userFacing = userFacing;
    this.environment = options.environment === true;
  }

  /** One line: `file:line:col: message (hint)`. */
  format(): string {
    const where = this.location ? `${formatLocation(this.location)}: ` : "";
    const svc = this.service && !this.message.includes(`'${this.service}'`) ? `service '${this.service}': ` : "";
    const hint = this.hint ? ` (${this.hint})` : "";
    return `${where}${svc}${this.message}${hint}`;
  }

  /** A copy of this error that points at a location in a user's file. */
  at(location: SourceLocation): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this, { location, message: this.message, stack: this.stack });
    // `cause` is an own non-enumerable property that Object.assign skips: carry it over too.
    if ("cause" in this) Object.defineProperty(copy, "cause", { value: this.cause, writable: true, configurable: true, enumerable: false });
    return copy;
  }
}

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

export class ValidationError extends CleanroomError {
  constructor(message: string, options?: CleanroomErrorOptions) {
    super("validation", message, options);
  }
}

export class PluginNotFoundError extends CleanroomError {
  /** The package names the loader tried, in order. */
  readonly candidates: readonly string[];
  constructor(message: string, candidates: readonly string[], options?: CleanroomErrorOptions) {
    super("plugin_not_found", message, options);
    this.candidates = candidates;
  }
}

export class ContainerError extends CleanroomError {
  constructor(message: string, options?: CleanroomErrorOptions) {
    super("container", message, options);
  }
}

export class TimeoutError extends CleanroomError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options?: CleanroomErrorOptions) {
    super("timeout", message, options);
    this.timeoutMs = timeoutMs;
  }
}

export class HealthError extends CleanroomError {
  constructor(message: string, options?: CleanroomErrorOptions) {
    super("health", message, options);
  }
}

export class InternalError extends CleanroomError {
  constructor(message: string, options?: CleanroomErrorOptions) {
    super("internal", message, options, false);
  }
}

export function isCleanroomError(err: unknown): err is CleanroomError {
  return err instanceof CleanroomError || (typeof err === "object" && err !== null && "code" in err && "userFacing" in err && "format" in err);
}

/** Wraps anything thrown into a CleanroomError, keeping CleanroomErrors as they are. */
export function toCleanroomError(err: unknown, service?: string): CleanroomError {
  if (isCleanroomError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err, ...(service ? { service } : {}) });
}
