import { ValidationError } from "./errors.js";
import type { PluginDefinition } from "./plugin.js";
import { isPluginDefinition } from "./plugin.js";

export interface RegisteredPlugin {
  readonly definition: PluginDefinition;
  /** Where it came from: a package name, a path, or "inline". */
  readonly source: string;
  readonly version?: string;
}

/** Plugin definitions by type. A type can be registered once. */
export class PluginRegistry {
  readonly #byType = new Map<string, RegisteredPlugin>();

  register(definition: PluginDefinition, meta: { source?: string; version?: string } = {}): void {
    if (!isPluginDefinition(definition)) {
      throw new ValidationError("not a clnrm plugin definition (missing the @clnrm/plugin brand)", {
        hint: "export default definePlugin({...}) from @clnrm/core",
      });
    }
    const existing = this.#byType.get(definition.type);
    if (existing) {
      throw new ValidationError(`plugin type '${definition.type}' is already registered (from ${existing.source})`, {
        hint: "each type can be provided by one plugin only",
      });
    }
    this.#byType.set(definition.type, { definition, source: meta.source ?? "inline", ...(meta.version ? { version: meta.version } : {}) });
  }

  has(type: string): boolean {
    return this.#byType.has(type);
  }

  get(type: string): PluginDefinition | undefined {
    return this.#byType.get(type)?.definition;
  }

  entry(type: string): RegisteredPlugin | undefined {
    return this.#byType.get(type);
  }

  list(): RegisteredPlugin[] {
    // Same order as types(): code-unit order, which unlike localeCompare doesn't vary with the locale.
    return this.types().map((t) => this.#byType.get(t)!);
  }

  types(): string[] {
    return [...this.#byType.keys()].sort();
  }
}
