/**
 * The CleanroomError family. Every error clnrm raises on purpose is one of these, with a stable
 * `code` (`CLNRM_ERR_*`, listed with its meaning and fix in docs/errors.md) that tools and tests
 * can match on, and a broad `kind` that says which class it is. `userFacing` errors are printed as
 * one line (message, location and hint) without a stack trace; anything else is a bug and keeps
 * its stack.
 *
 * This module imports nothing, so that it can be loaded on its own (`@clnrm/plugin-api/errors`,
 * re-exported as `@clnrm/core/errors`) by the CLI without the rest of core.
 */

/** The families of errors: each has its class (`interrupted` uses the base class). */
export type ErrorKind = "validation" | "plugin_not_found" | "container" | "timeout" | "health" | "interrupted" | "internal";

interface ErrorCodeInfo {
  readonly kind: ErrorKind;
  /** The machine lacks something the test needs: see CleanroomErrorOptions.environment. */
  readonly environment?: true;
}

/**
 * Every code clnrm raises, with its kind. The table is the source of truth: a test checks that
 * docs/errors.md documents exactly these codes.
 */
export const ERROR_CODES = {
  CLNRM_ERR_VALIDATION: { kind: "validation" },
  CLNRM_ERR_PLUGIN_NOT_FOUND: { kind: "plugin_not_found" },
  CLNRM_ERR_PLUGIN_LOAD: { kind: "validation" },
  CLNRM_ERR_PLUGIN_INCOMPATIBLE: { kind: "validation" },
  CLNRM_ERR_INVALID_HANDLE: { kind: "container" },
  CLNRM_ERR_CONTAINER: { kind: "container" },
  CLNRM_ERR_CONTAINER_EXITED: { kind: "container" },
  CLNRM_ERR_CONTAINER_GONE: { kind: "container" },
  CLNRM_ERR_START_CANCELLED: { kind: "container" },
  CLNRM_ERR_ENGINE_UNREACHABLE: { kind: "container", environment: true },
  CLNRM_ERR_ENGINE_GONE: { kind: "container", environment: true },
  CLNRM_ERR_IMAGE_NOT_FOUND: { kind: "container", environment: true },
  CLNRM_ERR_GPU_UNAVAILABLE: { kind: "container", environment: true },
  CLNRM_ERR_TIMEOUT: { kind: "timeout" },
  CLNRM_ERR_TEST_TIMEOUT: { kind: "timeout" },
  CLNRM_ERR_HEALTH: { kind: "health" },
  CLNRM_ERR_INTERRUPTED: { kind: "interrupted" },
  CLNRM_ERR_INTERNAL: { kind: "internal" },
} as const satisfies Record<`CLNRM_ERR_${string}`, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of one kind, e.g. `CodeOf<"timeout">` is `"CLNRM_ERR_TIMEOUT" | "CLNRM_ERR_TEST_TIMEOUT"`. */
export type CodeOf<K extends ErrorKind> = { [C in ErrorCode]: (typeof ERROR_CODES)[C]["kind"] extends K ? C : never }[ErrorCode];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

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
   * CLI exits 2 for it as for bad input, and a service start is not retried. Codes such as
   * CLNRM_ERR_ENGINE_UNREACHABLE set it themselves.
   */
  environment?: boolean;
}

/** Options of a class's constructor: the code defaults to the class's generic one. */
export type KindOptions<K extends ErrorKind> = CleanroomErrorOptions & { code?: CodeOf<K> };

/**
 * The cross-copy marker: `Symbol.for` gives the same symbol in every copy of this package loaded
 * in a process (two versions installed side by side, a plugin with its own copy), so `isInstance`
 * recognises errors that `instanceof` would not.
 */
const MARKER = Symbol.for("clnrm.error");

export class CleanroomError extends Error {
  /** Which class an error of another copy of this package belongs to (see `isInstance`). */
  static readonly kind: ErrorKind | undefined = undefined;
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly service: string | undefined;
  /** True when the error is about the user's input or environment, not a bug in clnrm. */
  readonly userFacing: boolean;
  /** True when the machine lacks something (see CleanroomErrorOptions.environment). */
  readonly environment: boolean;

  constructor(code: ErrorCode, message: string, options: CleanroomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info: ErrorCodeInfo | undefined = ERROR_CODES[code];
    if (!info) throw new TypeError(`unknown clnrm error code '${String(code)}'`);
    this.name = new.target.name;
    this.code = code;
    this.kind = info.kind;
    this.hint = options.hint;
    this.location = options.location;
    this.service = options.service;
    this.userFacing = info.kind !== "internal";
    this.environment = options.environment === true || info.environment === true;
  }

  /**
   * True for a CleanroomError of this class from any copy of this package in the process
   * (`CleanroomError.isInstance` for any of them, `TimeoutError.isInstance` for timeouts, ...).
   */
  static isInstance<T extends abstract new (...args: never[]) => CleanroomError>(this: T, value: unknown): value is InstanceType<T> {
    if (typeof value !== "object" || value === null || (value as { [MARKER]?: unknown })[MARKER] !== true) return false;
    // biome-ignore lint/complexity/noThisInStatic: the class it is called on (TimeoutError, ...) decides the kind
    const kind = (this as unknown as { kind?: ErrorKind }).kind;
    return kind === undefined || (value as { kind?: unknown }).kind === kind;
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
Object.defineProperty(CleanroomError.prototype, MARKER, { value: true });

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

export class ValidationError extends CleanroomError {
  static override readonly kind = "validation";
  constructor(message: string, options: KindOptions<"validation"> = {}) {
    super(options.code ?? "CLNRM_ERR_VALIDATION", message, options);
  }
}

export class PluginNotFoundError extends CleanroomError {
  static override readonly kind = "plugin_not_found";
  /** The package names the loader tried, in order. */
  readonly candidates: readonly string[];
  constructor(message: string, candidates: readonly string[], options: KindOptions<"plugin_not_found"> = {}) {
    super(options.code ?? "CLNRM_ERR_PLUGIN_NOT_FOUND", message, options);
    this.candidates = candidates;
  }
}

export class ContainerError extends CleanroomError {
  static override readonly kind = "container";
  constructor(message: string, options: KindOptions<"container"> = {}) {
    super(options.code ?? "CLNRM_ERR_CONTAINER", message, options);
  }
}

export class TimeoutError extends CleanroomError {
  static override readonly kind = "timeout";
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: KindOptions<"timeout"> = {}) {
    super(options.code ?? "CLNRM_ERR_TIMEOUT", message, options);
    this.timeoutMs = timeoutMs;
  }
}

export class HealthError extends CleanroomError {
  static override readonly kind = "health";
  constructor(message: string, options: KindOptions<"health"> = {}) {
    super(options.code ?? "CLNRM_ERR_HEALTH", message, options);
  }
}

/** A bug (in clnrm or a plugin): not user-facing, printed with its stack. */
export class InternalError extends CleanroomError {
  static override readonly kind = "internal";
  constructor(message: string, options: CleanroomErrorOptions = {}) {
    super("CLNRM_ERR_INTERNAL", message, options);
  }
}

/** What `createError` builds for a code: the class of its kind. */
export type ErrorFor<C extends ErrorCode> = {
  validation: ValidationError;
  plugin_not_found: PluginNotFoundError;
  container: ContainerError;
  timeout: TimeoutError;
  health: HealthError;
  interrupted: CleanroomError;
  internal: InternalError;
}[(typeof ERROR_CODES)[C]["kind"]];

export interface CreateErrorOptions extends CleanroomErrorOptions {
  /** For timeouts: the limit that was exceeded. */
  timeoutMs?: number;
  /** For CLNRM_ERR_PLUGIN_NOT_FOUND: the package names tried. */
  candidates?: readonly string[];
}

/** The one factory: an error of the class that `code`'s kind calls for. */
export function createError<C extends ErrorCode>(code: C, message: string, options: CreateErrorOptions = {}): ErrorFor<C> {
  const { timeoutMs, candidates, ...rest } = options;
  const opts = { ...rest, code } as KindOptions<ErrorKind> & { code: never };
  const kind: ErrorKind = ERROR_CODES[code].kind;
  switch (kind) {
    case "validation":
      return new ValidationError(message, opts) as ErrorFor<C>;
    case "plugin_not_found":
      return new PluginNotFoundError(message, candidates ?? [], opts) as ErrorFor<C>;
    case "container":
      return new ContainerError(message, opts) as ErrorFor<C>;
    case "timeout":
      return new TimeoutError(message, timeoutMs ?? 0, opts) as ErrorFor<C>;
    case "health":
      return new HealthError(message, opts) as ErrorFor<C>;
    case "internal":
      return new InternalError(message, rest) as ErrorFor<C>;
    case "interrupted":
      return new CleanroomError(code, message, rest) as ErrorFor<C>;
  }
}

/** A CleanroomError from any copy of this package: the same as `CleanroomError.isInstance`. */
export function isCleanroomError(err: unknown): err is CleanroomError {
  return CleanroomError.isInstance(err);
}

export interface WrapOptions {
  /** The service the failure concerns. */
  service?: string;
  /** Put before the original message, e.g. "service 'db' (postgres) failed to start". */
  context?: string;
}

/**
 * Wraps anything thrown into a CleanroomError, keeping CleanroomErrors as they are. Anything else
 * (a plain Error, a thrown string) becomes CLNRM_ERR_INTERNAL with the original as its cause: this
 * is the one place unknown errors are wrapped.
 */
export function toCleanroomError(err: unknown, options: string | WrapOptions = {}): CleanroomError {
  if (isCleanroomError(err)) return err;
  const { service, context } = typeof options === "string" ? { service: options, context: undefined } : options;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(context ? `${context}: ${message}` : message, { cause: err, ...(service ? { service } : {}) });
}
