import { RE2JS } from "re2js";
import { z } from "zod";
import { ValidationError } from "./errors.js";

const FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, g: 0, u: 0 };
const ENGINE = "clnrm matches with RE2, which runs in linear time";

/** Syntax a backtracking engine has and RE2 cannot run in linear time, named for the user. */
function unsupported(source: string): string | undefined {
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && source[i + 2] === "<")) return `backreferences (\\${next}${next === "k" ? "<…>" : ""}) are not supported: ${ENGINE}`;
      i++;
    } else if (c === "(" && source[i + 1] === "?") {
      const head = source.slice(i + 2, i + 4);
      if (head[0] === "=" || head[0] === "!" || head === "<=" || head === "<!") return `lookahead and lookbehind ((?${head[0] === "<" ? head : head[0]}…)) are not supported: ${ENGINE}`;
    }
  }
  return undefined;
}

/**
 * A user's regular expression, compiled for RE2 (linear time: no pattern can stall a run). It is a
 * RegExp so that code taking one (testcontainers' log wait, `instanceof RegExp` checks) accepts it;
 * `test`, `exec` and `source` are RE2's, the RegExp base only ever holds an empty pattern.
 */
export class UserRegex extends RegExp {
  readonly #re: RE2JS;
  readonly #source: string;
  constructor(source: string, flags = "") {
    super("(?:)");
    const reason = userRegexError(source, flags);
    if (reason) throw new ValidationError(reason);
    let f = 0;
    for (const c of flags) f |= FLAGS[c]!;
    this.#re = RE2JS.compile(RE2JS.translateRegExp(source), f);
    this.#source = source;
  }
  override get source(): string {
    return this.#source;
  }
  override test(input: string): boolean {
    return this.#re.test(input);
  }
  override exec(input: string): RegExpExecArray | null {
    return this.#re.exec(input) as RegExpExecArray | null;
  }
  /** How many non-overlapping matches `input` has. */
  count(input: string): number {
    const m = this.#re.matcher(input);
    let n = 0;
    while (m.find()) n++;
    return n;
  }
  override toString(): string {
    return `/${this.#source}/`;
  }
}

/** Why `source` can't be used as a user regex (unsupported syntax, a syntax error, an unknown flag), or undefined. */
export function userRegexError(source: string, flags = ""): string | undefined {
  const bad = [...flags].find((c) => !(c in FLAGS));
  if (bad) return `unsupported regular expression flag '${bad}' (use i, m or s)`;
  const reason = unsupported(source);
  if (reason) return `regular expression ${JSON.stringify(source)}: ${reason}`;
  try {
    RE2JS.compile(RE2JS.translateRegExp(source));
    return undefined;
  } catch (err) {
    const why = (err as Error).message.replace(/^error parsing regexp: /, "").replace(/: `([\s\S]*)`$/, (m, part: string) => (part === source ? "" : m));
    return `invalid regular expression ${JSON.stringify(source)}: ${why}`;
  }
}

/** Compiles a user's pattern; a pattern RE2 can't run is a ValidationError that starts with `where`. */
export function compileUserRegex(source: string, where?: string, flags = ""): UserRegex {
  const reason = userRegexError(source, flags);
  if (reason) throw new ValidationError(where ? `${where}: ${reason}` : reason);
  return new UserRegex(source, flags);
}

/** A zod schema for a user regex string; the output is a UserRegex. */
export function userRegexSchema(flags = ""): z.ZodType<UserRegex, string> {
  return z.string().transform((s, ctx) => {
    const reason = userRegexError(s, flags);
    if (reason) {
      ctx.addIssue({ code: "custom", message: reason });
      return z.NEVER;
    }
    return new UserRegex(s, flags);
  });
}

/** A zod schema for a string that must be a usable user regex; the output stays the string. */
export const userRegexSourceSchema = z.string().min(1).superRefine((s, ctx) => {
  const reason = userRegexError(s);
  if (reason) ctx.addIssue({ code: "custom", message: reason });
});
