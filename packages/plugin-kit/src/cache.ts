import type { MountSpec } from "@clnrm/plugin-api";
import { z } from "@clnrm/core";

/** Labels of cache volumes: `clnrm gc` keeps them unless `--all`. */
export const CACHE_LABELS: Readonly<Record<string, string>> = { "clnrm.managed": "true", "clnrm.keep": "true" };

/** A named volume that outlives the run (e.g. downloaded models), kept by `clnrm gc` unless `--all`. */
export function modelCacheMount(name: string, target: string): MountSpec {
  return { type: "volume", name, target, labels: { ...CACHE_LABELS } };
}

/** The `model_cache` config key: the name of a cache volume (default `defaultVolume`), or false for none. */
export function modelCacheSchema(defaultVolume: string) {
  return z.union([z.literal(false), z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "invalid volume name")]).default(defaultVolume);
}
