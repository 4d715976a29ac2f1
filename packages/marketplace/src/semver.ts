// The semver functions the registry needs, imported one by one: the package's
// main module loads all ~45 of its files, which showed up in every `clnrm run`'s start time.
import validRange from "semver/ranges/valid.js";
import satisfies from "semver/functions/satisfies.js";
import maxSatisfying from "semver/ranges/max-satisfying.js";

const opts = { includePrerelease: true } as const;

/** True when `range` is a valid semver range (prereleases included). */
export const isRange = (range: string): boolean => validRange(range, opts) !== null;
/** True when `version` satisfies `range` (prereleases included). */
export const inRange = (version: string, range: string): boolean => satisfies(version, range, opts);
/** The highest of `versions` that satisfies `range`, or undefined. */
export const maxInRange = (versions: readonly string[], range: string): string | undefined => maxSatisfying([...versions], range, opts) ?? undefined;
