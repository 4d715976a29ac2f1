import { isBuiltin } from "node:module";
import { ValidationError } from "@clnrm/core";
import { BUILTIN_PLUGINS, COMMUNITY_PREFIX, OFFICIAL_PREFIX } from "./builtins.js";

export { COMMUNITY_PREFIX, OFFICIAL_PREFIX };

const SEGMENT = "[a-z0-9][a-z0-9._-]*";
/** npm package-name grammar (lowercase; underscores allowed), with an optional `@scope/`. */
const NAME_RE = new RegExp(`^(?:@(${SEGMENT})/)?(${SEGMENT})$`);
const MAX_NAME_LENGTH = 214;

/** True when `spec` is a relative path (`./x`, `../x`, `.` or `..`). */
export function isRelativePath(spec: string): boolean {
  return spec === "." || spec === ".." || spec.startsWith("./") || spec.startsWith("../");
}

function looksLikePath(s: string): boolean {
  return (
    s.startsWith(".") ||
    s.startsWith("/") ||
    s.startsWith("~") ||
    s.includes("\\") ||
    s.includes("..") ||
    /^[a-zA-Z]:[\\/]/.test(s)
  );
}

function isValidName(s: string): boolean {
  return s.length > 0 && s.length <= MAX_NAME_LENGTH && NAME_RE.test(s) && !s.includes("..");
}

/**
 * Checks a service `type` is a plugin name (npm package-name grammar, underscores allowed).
 * Paths, URLs and anything else are refused with a ValidationError, before anything is resolved.
 */
export function assertPluginTypeName(type: string): void {
  const shown = JSON.stringify(type);
  if (typeof type !== "string" || type.length === 0) {
    throw new ValidationError("service type is empty", { hint: 'set type = "generic_container" or another plugin type' });
  }
  if (looksLikePath(type)) {
    throw new ValidationError(`type ${shown} is not a plugin name: a local plugin needs an explicit package = "./path"`);
  }
  if (type.includes(":")) {
    throw new ValidationError(`type ${shown} is not a plugin name: URLs and node: modules can't be loaded as plugins`, {
      hint: 'install the plugin as a package, or set package = "./path" for a local one',
    });
  }
  if (!isValidName(type)) {
    throw new ValidationError(
      `type ${shown} is not a plugin name: use lowercase letters, digits, '-', '_' and '.' (optionally @scope/name)`,
    );
  }
}

/** Checks an explicit `package = "..."`: a package name or a relative path (`./x`, `../x`). */
export function assertExplicitPackage(pkg: string): void {
  const shown = JSON.stringify(pkg);
  if (typeof pkg !== "string" || pkg.length === 0) throw new ValidationError("package is empty");
  if (isRelativePath(pkg)) return;
  if (looksLikePath(pkg)) {
    throw new ValidationError(`package ${shown} is not a package name or a relative path`, {
      hint: 'a local plugin path must start with "./" or "../" (relative to the test file)',
    });
  }
  if (pkg.includes(":")) {
    throw new ValidationError(`package ${shown} is not a package name or a relative path: URLs can't be loaded as plugins`);
  }
  if (!isValidName(pkg)) {
    throw new ValidationError(`package ${shown} is not a valid package name`, {
      hint: "use an npm package name (lowercase, optionally @scope/name) or a relative path",
    });
  }
}

/** `@scope/name` → `{ scope: "scope", name: "name" }`, `name` → `{ name }`. */
function splitName(type: string): { scope?: string; name: string } {
  const m = NAME_RE.exec(type);
  if (!m) return { name: type };
  return m[1] === undefined ? { name: m[2]! } : { scope: m[1], name: m[2]! };
}

/**
 * The packages tried for a service type, in order:
 * 1. the explicit `package` from the service table, alone (no fallback);
 * 2. the official package: the built-in alias table, else `@clnrm/plugin-<type>` (`_` → `-`), for unscoped types;
 * 3. `@scope/name` → `@scope/clnrm-plugin-name`;
 * 4. `name` → `clnrm-plugin-name`;
 * 5. the raw name.
 * Node built-in module names are never candidates. Throws a ValidationError for invalid input.
 */
export function candidatesFor(type: string, explicitPackage?: string): string[] {
  assertPluginTypeName(type);
  if (explicitPackage !== undefined) {
    assertExplicitPackage(explicitPackage);
    return [explicitPackage];
  }
  const { scope, name } = splitName(type);
  const out: string[] = [];
  if (scope === undefined) {
    out.push(BUILTIN_PLUGINS[type]?.package ?? `${OFFICIAL_PREFIX}${type.replaceAll("_", "-")}`);
    out.push(`${COMMUNITY_PREFIX}${name}`);
  } else {
    out.push(`@${scope}/${COMMUNITY_PREFIX}${name}`);
  }
  out.push(type);
  return [...new Set(out)].filter((p) => !isBuiltin(p));
}
