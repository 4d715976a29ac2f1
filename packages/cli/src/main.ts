import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { exitCodeFor, printError } from "./errors.js";

export const EXIT = { passed: 0, failed: 1, badInput: 2, sigint: 130, sigterm: 143 } as const;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Builds the `clnrm` command tree. Each action imports what it needs, so `clnrm --version` stays cheap. */
export function program(): Command {
  const cli = new Command("clnrm")
    .description("cleanroom integration tests: real services in containers, torn down after every test")
    .version(version(), "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();

  cli
    .command("run")
    .description("run .clnrm.toml test files (a directory runs every *.clnrm.toml under it)")
    .argument("[paths...]", "test files or directories", ["."])
    .option("-j, --jobs <n>", "test files to run at once", (v) => positiveInt(v, "--jobs"))
    .addOption(new Option("-r, --reporter <name>", "output format").choices(["human", "json"]).default("human"))
    .option("-v, --verbose", "show service outputs, step output and timings")
    .action(async (paths: string[], opts: { jobs?: number; reporter: "human" | "json"; verbose?: boolean }) => {
      const { runCommand } = await import("./commands/run.js");
      process.exitCode = await runCommand(paths, opts);
    });

  cli
    .command("validate")
    .description("check test files (syntax, schema, plugins, plugin config, references, graph) without starting anything")
    .argument("[paths...]", "test files or directories", ["."])
    .action(async (paths: string[]) => {
      const { validateCommand } = await import("./commands/validate.js");
      process.exitCode = await validateCommand(paths);
    });

  cli
    .command("plugins")
    .description("list the plugins this project can resolve, and the built-ins it could install")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { pluginsCommand } = await import("./commands/plugins.js");
      process.exitCode = await pluginsCommand(process.cwd(), opts);
    });

  cli
    .command("gc")
    .description("remove containers, networks and volumes left behind by clnrm runs that are no longer alive")
    .option("--all", "also remove resources of live runs and kept volumes (model caches)")
    .action(async (opts: { all?: boolean }) => {
      const { gcCommand } = await import("./commands/gc.js");
      process.exitCode = await gcCommand(opts);
    });

  return cli;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderError(EXIT.badInput, "clnrm.invalidArgument", `error: ${flag} must be a positive integer, got '${v}'`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const cli = program();
  try {
    await cli.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (help, version, or a usage error).
      return err.exitCode === 0 ? 0 : EXIT.badInput;
    }
    printError(err);
    return exitCodeFor(err);
  }
}
