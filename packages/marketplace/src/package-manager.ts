import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export type PackageManager = "pnpm" | "yarn" | "bun" | "npm";

const LOCKFILES: readonly (readonly [string, PackageManager])[] = [
  ["pnpm-lock.yaml", "pnpm"],
  ["yarn.lock", "yarn"],
  ["bun.lock", "bun"],
  ["bun.lockb", "bun"],
  ["package-lock.json", "npm"],
  ["npm-shrinkwrap.json", "npm"],
];

/** The package manager of the project: the lockfile nearest to `projectDir`, walking up; npm when there is none. */
export function detectPackageManager(projectDir: string): PackageManager {
  let dir = resolve(projectDir);
  for (;;) {
    for (const [file, pm] of LOCKFILES) if (existsSync(join(dir, file))) return pm;
    const parent = dirname(dir);
    if (parent === dir) return "npm";
    dir = parent;
  }
}

/** The command that adds `pkg` as a dev dependency (`pnpm add -D pkg`, `npm install -D pkg`, ...). */
export function installCommand(pkg: string, pm: PackageManager): string {
  return addArgs(pm, [pkg]).join(" ");
}

/** The argv that adds packages as dev dependencies (`["pnpm", "add", "-D", ...pkgs]`). */
export function addArgs(pm: PackageManager, pkgs: readonly string[]): string[] {
  switch (pm) {
    case "pnpm":
      return ["pnpm", "add", "-D", ...pkgs];
    case "yarn":
      return ["yarn", "add", "-D", ...pkgs];
    case "bun":
      return ["bun", "add", "-d", ...pkgs];
    default:
      return ["npm", "install", "-D", ...pkgs];
  }
}

/** The argv that removes packages (`["pnpm", "remove", ...pkgs]`). */
export function removeArgs(pm: PackageManager, pkgs: readonly string[]): string[] {
  switch (pm) {
    case "npm":
      return ["npm", "uninstall", ...pkgs];
    default:
      return [pm, "remove", ...pkgs];
  }
}
