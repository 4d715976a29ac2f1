import { spawn } from "node:child_process";
import { createInterface } from "node:readline/promises";
import { ValidationError } from "@clnrm/core";
import {
  addArgs,
  clnrmManifest,
  declaresPlugin,
  detectPackageManager,
  findInstalledPackage,
  findPluginPackage,
  incompatibility,
  packageForName,
  projectRoot,
  readPackageJson,
  readRegistryConfig,
  removeArgs,
} from "@clnrm/marketplace";
import pc from "picocolors";

export interface InstallOptions {
  yes?: boolean;
  /** For tests: whether stdin/stdout are a terminal (default: process.stdin.isTTY && process.stdout.isTTY). */
  tty?: boolean;
}

/** The trust warning for a package outside the official @clnrm scope. */
export function trustWarning(pkg: string): string {
  return `third-party plugin ${pkg} runs code with your permissions during tests; review it before installing`;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function run(argv: readonly string[], cwd: string): Promise<number> {
  const [cmd, ...args] = argv;
  process.stderr.write(`${pc.dim(`$ ${argv.join(" ")}`)}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd!, args, { cwd, stdio: "inherit", shell: process.platform === "win32" });
    child.on("error", (err) => {
      process.stderr.write(`${pc.red("error")}: could not run ${cmd}: ${err.message}\n  hint: install ${cmd}, or add the packages yourself\n`);
      resolve(127);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * `clnrm plugins install <name...>`: each name is a type as a test file writes it (`ollama`, `@acme/redis`)
 * or a package name, found in the registry its scope uses; a version this clnrm can't load (plugin API,
 * `@clnrm/core` range) stops everything before anything is installed (exit 2). Adds them as dev
 * dependencies with the project's package manager. Third-party packages need a y/N answer on a terminal,
 * or --yes; without a terminal and without --yes nothing is installed (exit 2).
 */
export async function pluginsInstallCommand(projectDir: string, names: readonly string[], opts: InstallOptions): Promise<number> {
  const config = readRegistryConfig(projectDir);
  const pkgs = await Promise.all(names.map((n) => findPluginPackage(n, config)));
  const refused = pkgs.map((p) => incompatibility(p)).filter((r) => r !== undefined);
  if (refused.length > 0) {
    throw new ValidationError(`not installing: ${refused.join("; ")}`, {
      hint: "install a version built for this clnrm (name@version), or upgrade @clnrm/cli",
    });
  }
  const thirdParty = pkgs.filter((p) => !p.name.startsWith("@clnrm/"));
  if (thirdParty.length > 0 && !opts.yes) {
    for (const p of thirdParty) process.stderr.write(`${pc.yellow("warning")}: ${trustWarning(p.name)}\n`);
    const tty = opts.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (!tty) {
      process.stderr.write(
        `${pc.red("error")}: not installing third-party plugins without confirmation\n  hint: review them, then pass --yes\n`,
      );
      return 2;
    }
    if (!(await confirm(`install ${thirdParty.map((p) => p.name).join(", ")}? [y/N] `))) {
      process.stderr.write("nothing installed\n");
      return 1;
    }
  }
  const root = projectRoot(projectDir);
  const pm = detectPackageManager(root);
  const specs = pkgs.map((p) => (p.spec && p.version ? `${p.name}@${p.version}` : p.name));
  const code = await run(addArgs(pm, specs), root);
  if (code !== 0) {
    process.stderr.write(`${pc.red("error")}: ${pm} failed (exit ${code}); nothing else was changed\n`);
    return 1;
  }
  for (const p of pkgs) {
    const found = findInstalledPackage(p.name, root);
    const pkg = found ? readPackageJson(found.dir) : undefined;
    if (!pkg) {
      process.stderr.write(`${pc.yellow("warning")}: ${p.name} is not visible from ${root} after installing\n`);
      continue;
    }
    const types = clnrmManifest(pkg)?.types;
    const note = declaresPlugin(pkg) ? (types?.length ? `type ${types.map((t) => `"${t}"`).join(", ")}` : "") : pc.yellow("not a clnrm plugin (no clnrm-plugin keyword)");
    process.stdout.write(`installed ${p.name}@${pkg.version ?? "?"}${note ? `  ${note}` : ""}\n`);
  }
  return 0;
}

/** `clnrm plugins remove <name...>`: removes the packages with the project's package manager. */
export async function pluginsRemoveCommand(projectDir: string, names: readonly string[]): Promise<number> {
  const root = projectRoot(projectDir);
  const pm = detectPackageManager(root);
  const pkgs = names.map((n) => packageForName(n).name);
  const code = await run(removeArgs(pm, pkgs), root);
  if (code !== 0) {
    process.stderr.write(`${pc.red("error")}: ${pm} failed (exit ${code})\n`);
    return 1;
  }
  process.stdout.write(`removed ${pkgs.join(", ")}\n`);
  return 0;
}
