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

/** Replaces every reference with the output's value. An unknown output is an error naming the ones there are. */
export function interpolate<T>(value: T, outputs: ReadonlyMap<string, Outputs>, where: string): T {
  if (typeof value === "string") {
    return value.replace(REF_RE, (_m, svc: string, key: string) => {
      const out = outputs.get(svc);
      if (!out) throw new ValidationError(`${where}: \${services.${svc}.${key}} refers to service '${svc}', which is not running`);
      if (!(key in out)) {
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
