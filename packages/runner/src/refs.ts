import { CleanroomError, didYouMean, type Outputs, ValidationError } from "@clnrm/core";

/** `${services.NAME.KEY}`: an output of another service. */
const REF_RE = /\$\{services\.([a-zA-Z0-9][a-zA-Z0-9_-]*)\.([a-zA-Z0-9_.-]+)\}/g;

export interface Reference {
  service: string;
  output: string;
  /** Where in the value the reference sits. */
  path: (string | number)[];
}

/** Every `${services.X.Y}` in a value (strings inside objects and arrays). */
export function findReferences(value: unknown, path: (string | number)[] = []): Reference[] {
  if (typeof value === "string") {
    return [...value.matchAll(REF_RE)].map((m) => ({ service: m[1]!, output: m[2]!, path }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findReferences(v, [...path, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => findReferences(v, [...path, k]));
  }
  return [];
}

/** A `${...}` in a value that cannot be a reference: `${services.test}` (no output), or a `${` never closed. */
export interface MalformedReference {
  text: string;
  message: string;
  path: (string | number)[];
}

/** The sticky form of REF_RE: does a reference start exactly here? */
const REF_AT = new RegExp(REF_RE.source, "y");

/** Every malformed `${...}` in a value (strings inside objects and arrays), one per string at most. */
export function findMalformedReferences(value: unknown, path: (string | number)[] = []): MalformedReference[] {
  if (typeof value === "string") {
    for (let at = value.indexOf("${"); at >= 0; at = value.indexOf("${", at + 2)) {
      const close = value.indexOf("}", at);
      if (close < 0) {
        const text = value.slice(at, at + 40);
        return [{ text, path, message: `'${text}' is never closed: end it with '}'${value.startsWith("${services", at) ? " (a reference is ${services.NAME.OUTPUT})" : ""}` }];
      }
      if (!value.startsWith("${services", at)) continue;
      REF_AT.lastIndex = at;
      if (REF_AT.test(value)) continue;
      const text = value.slice(at, close + 1);
      return [{ text, path, message: `'${text}' is not a reference: write \${services.NAME.OUTPUT}, e.g. \${services.db.host}` }];
    }
    return [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findMalformedReferences(v, [...path, i]));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => findMalformedReferences(v, [...path, k]));
  return [];
}

/** Replaces every reference with the output's value. An unknown output is an error naming the ones there are. */
export function interpolate<T>(value: T, outputs: ReadonlyMap<string, Outputs>, where: string): T {
  if (typeof value === "string") {
    return value.replace(REF_RE, (_m, svc: string, key: string) => {
      const out = outputs.get(svc);
      if (!out) throw new ValidationError(`${where}: \${services.${svc}.${key}} refers to service '${svc}', which is not running`);
      // Only the service's own outputs: not `constructor` or `toString` from the object's prototype.
      if (!Object.hasOwn(out, key)) {
        const hint = didYouMean(key, Object.keys(out));
        throw new ValidationError(`${where}: service '${svc}' has no output '${key}'`, {
          hint: hint ? `did you mean '${hint}'?` : `its outputs: ${Object.keys(out).join(", ")}`,
        });
      }
      return String(out[key]);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, outputs, where)) as T;
  if (value && typeof value === "object" && !(value instanceof RegExp)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, outputs, where)])) as T;
  }
  return value;
}

export function isUserError(err: unknown): err is CleanroomError {
  return err instanceof CleanroomError && err.userFacing;
}
