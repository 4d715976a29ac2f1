/**
 * One registry of secret values for the whole process: plugin fields marked secret (passwords,
 * tokens) and env values named *_TOKEN, *_PASSWORD, *_KEY, *_SECRET. Reporters, errors and spans
 * pass what they show through `redact`.
 */
export const REDACTED = "[redacted]";
/** Values shorter than this aren't registered: redacting every "1" or "ab" would garble every line. */
export const MIN_SECRET_LENGTH = 3;
/** Env names whose values are secret. */
export const SECRET_ENV_RE = /(^|_)(TOKEN|PASSWORD|PASS|KEY|SECRET)$/i;
/** Attribute / config keys whose values are secret. */
export const SECRET_KEY_RE = /(password|passwd|pass|token|secret|key)$/i;

const secrets = new Set<string>();

export function registerSecret(value: unknown): void {
  if (typeof value === "string" && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** Registers the values of env entries whose names look secret. */
export function registerSecretEnv(env: Record<string, string | undefined> | undefined): void {
  for (const [k, v] of Object.entries(env ?? {})) if (SECRET_ENV_RE.test(k)) registerSecret(v);
}

export function clearSecrets(): void {
  secrets.clear();
}

/** Replaces every registered secret in a string. */
export function redact(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Redacts every string inside a JSON-like value (for reports). */
export function redactDeep<T>(value: T): T {
  if (secrets.size === 0) return value;
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === "object" && !(value instanceof RegExp)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY_RE.test(k) && typeof v === "string" ? REDACTED : redactDeep(v)])) as T;
  }
  return value;
}
