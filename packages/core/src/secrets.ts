/**
 * One registry of secret values for the whole process: plugin fields marked secret (passwords,
 * tokens) and env values named *_TOKEN, *_PASSWORD, *_KEY, *_SECRET. Reporters, errors and spans
 * pass what they show through `redact`.
 *
 * The rule (docs/plugin-authoring.md, "Secrets"): every secret, of any length, is redacted where it
 * stands as a whole token; a secret of IN_WORD_SECRET_LENGTH characters or more is redacted
 * wherever it occurs, even inside a longer word. A token is bounded by the start or end of the text
 * or by a character that doesn't join words: letters, digits, `_`, `-`, `/` and `\` join (so a
 * short secret "root" leaves "rootfs" and "/root" alone), a `.` joins only when a letter or digit
 * follows it (so "root." at the end of a sentence is redacted, "root.txt" is not).
 */
export const REDACTED = "[redacted]";
/** Secrets at least this long are redacted inside words too; shorter ones only as whole tokens. */
export const IN_WORD_SECRET_LENGTH = 8;
/** Env names whose values are secret. */
export const SECRET_ENV_RE = /(^|_)(TOKEN|PASSWORD|PASS|KEY|SECRET)$/i;
/** Attribute / config keys whose values are secret. */
export const SECRET_KEY_RE = /(password|passwd|pass|token|secret|key)$/i;

const secrets = new Set<string>();
const WORD = /[\p{L}\p{N}_]/u;
const JOIN = /[\p{L}\p{N}_\-/\\]/u;

/**
 * Registers a secret: a string of any length, or a number / bigint (as written in decimal). A
 * multi-line value also registers each of its lines that has 4+ characters and a letter or digit,
 * so a key printed line by line is redacted too.
 */
export function registerSecret(value: unknown): void {
  const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "bigint" ? String(value) : undefined;
  if (!text) return;
  secrets.add(text);
  if (!/[\r\n]/.test(text)) return;
  for (const line of text.split(/\r?\n|\r/)) {
    const t = line.trim();
    if (t.length >= 4 && /[\p{L}\p{N}]/u.test(t)) secrets.add(t);
  }
}

/** Registers the values of env entries whose names look secret. */
export function registerSecretEnv(env: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(env ?? {})) if (SECRET_ENV_RE.test(k)) registerSecret(v);
}

export function clearSecrets(): void {
  secrets.clear();
}

/** Whether `text[start, end)` stands as a whole token. */
function isToken(text: string, start: number, end: number): boolean {
  const before = text[start - 1];
  const after = text[end];
  if (before !== undefined && (JOIN.test(before) || before === ".")) return false;
  if (after === undefined) return true;
  if (JOIN.test(after)) return false;
  return !(after === "." && WORD.test(text[end + 1] ?? ""));
}

/** Replaces every registered secret in a string (see the rule above). */
export function redact(text: string): string {
  if (secrets.size === 0 || text.length === 0) return text;
  const hits: [number, number][] = [];
  for (const s of secrets) {
    const anywhere = s.length >= IN_WORD_SECRET_LENGTH;
    for (let i = text.indexOf(s); i !== -1; i = text.indexOf(s, i + 1)) {
      if (anywhere || isToken(text, i, i + s.length)) hits.push([i, i + s.length]);
    }
  }
  if (hits.length === 0) return text;
  hits.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = "";
  let at = 0;
  for (const [start, end] of hits) {
    if (end <= at) continue;
    out += text.slice(at, Math.max(at, start)) + (start >= at ? REDACTED : "");
    at = end;
  }
  return out + text.slice(at);
}

/**
 * Redacts a JSON-like value (for reports): a value under a key that looks secret (SECRET_KEY_RE)
 * is replaced whole; every other string follows `redact`; a number that is a secret is replaced.
 */
export function redactDeep<T>(value: T): T {
  if (secrets.size === 0) return value;
  if (typeof value === "string") return redact(value) as T;
  if (typeof value === "number" || typeof value === "bigint") return (secrets.has(String(value)) ? REDACTED : value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === "object" && !(value instanceof RegExp)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY_RE.test(k) && (typeof v === "string" || typeof v === "number") ? REDACTED : redactDeep(v)])) as T;
  }
  return value;
}

/** Registers the values of a plugin's `secretFields` in a raw service table (a field may be a dotted path: "auth.pass"). */
export function registerSecretFields(fields: readonly string[] | undefined, table: unknown): void {
  for (const field of fields ?? []) registerSecret(field.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), table));
}
