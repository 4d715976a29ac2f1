import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import type { RunCommandOptions } from "./commands/run.js";
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
    .option("-j, --jobs <n>", "test files to run at once (default: the number of cores)", (v) => positiveInt(v, "--jobs"))
    .option("-t, --tag <tag...>", "only tests whose [meta] tags include one of these")
    .option("-f, --filter <pattern>", "only tests whose name or file path contains this text (or matches /regex/)")
    .addOption(new Option("-r, --reporter <name>", "output format (github: annotations at the failing lines and a job summary)").choices(["human", "json", "junit", "github"]).default("human"))
    .option("-o, --output <file>", "where the json or junit report goes (default: stdout for json; required for junit; with github: a JUnit report too)")
    .option("-v, --verbose", "show service outputs, step output and timings")
    .option("--otel-endpoint <url>", "export clnrm's own spans over OTLP/HTTP to this collector (default: $OTEL_EXPORTER_OTLP_ENDPOINT)")
    .option("--shard <i/n>", "run only the i-th of n parts of the selected files (n CI jobs run every file once)")
    .option("--timings <file>", "with --shard: balance the parts by the durations in this file (--record-timings, or a json report)")
    .option("--record-timings <file>", "write each file's duration to this file (for --timings)")
    .action(async (paths: string[], opts: RunCommandOptions) => {
      const { runCommand } = await import("./commands/run.js");
      try {
        process.exitCode = await runCommand(paths, opts);
      } catch (err) {
        // Bad input under --reporter github: an annotation at each problem's line too.
        if (opts.reporter === "github") process.stdout.write((await import("./reporters/github.js")).errorAnnotations(err));
        throw err;
      }
    });

  cli
    .command("merge-reports")
    .description("merge the json (or junit) reports of the shards of a run into one, with their totals")
    .argument("<reports...>", "the shards' report files: all json or all junit xml")
    .option("-o, --output <file>", "where the merged report goes (default: stdout)")
    .action(async (reports: string[], opts: { output?: string }) => {
      const { mergeReportsCommand } = await import("./commands/merge-reports.js");
      process.exitCode = await mergeReportsCommand(reports, opts);
    });

  cli
    .command("validate")
    .description("check test files (syntax, schema, plugins, plugin config, references, graph) without starting anything")
    .argument("[paths...]", "test files or directories", ["."])
    .addOption(new Option("-r, --reporter <name>", "output format (github: an ::error annotation per problem, at its file:line:col)").choices(["human", "github"]).default("human"))
    .action(async (paths: string[], opts: { reporter: "human" | "github" }) => {
      const { validateCommand } = await import("./commands/validate.js");
      process.exitCode = await validateCommand(paths, opts.reporter);
    });

  const plugins = cli
    .command("plugins")
    .description("list the plugins this project can resolve (and search, install, remove, scaffold plugins)")
    .option("--json", "print JSON (plugins, list, search, info)")
    .action(async (opts: { json?: boolean }) => {
      const { pluginsCommand } = await import("./commands/plugins.js");
      process.exitCode = await pluginsCommand(process.cwd(), opts);
    });
  plugins
    .command("list")
    .description("list the plugins this project can resolve, and the built-ins it could install")
    .action(async (_opts: unknown, cmd: Command) => {
      const { pluginsCommand } = await import("./commands/plugins.js");
      process.exitCode = await pluginsCommand(process.cwd(), cmd.optsWithGlobals());
    });
  plugins
    .command("search")
    .description("search the configured registries (.npmrc, scoped registries too) for clnrm plugins")
    .argument("<text...>", "words to search for")
    .action(async (text: string[], _opts: unknown, cmd: Command) => {
      const { pluginsSearchCommand } = await import("./commands/plugins-registry.js");
      process.exitCode = await pluginsSearchCommand(process.cwd(), text.join(" "), cmd.optsWithGlobals());
    });
  plugins
    .command("info")
    .description("show a plugin's registry metadata, compatibility and installed version")
    .argument("<name>", "a built-in type (ollama) or a package name")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { pluginsInfoCommand } = await import("./commands/plugins-registry.js");
      process.exitCode = await pluginsInfoCommand(process.cwd(), name, cmd.optsWithGlobals());
    });
  plugins
    .command("install")
    .alias("add")
    .description("add plugins to the project's devDependencies with its package manager")
    .argument("<names...>", "built-in types (ollama) or package names, optionally @version")
    .option("-y, --yes", "install third-party plugins without asking")
    .action(async (names: string[], opts: { yes?: boolean }) => {
      const { pluginsInstallCommand } = await import("./commands/plugins-install.js");
      process.exitCode = await pluginsInstallCommand(process.cwd(), names, opts);
    });
  plugins
    .command("remove")
    .alias("rm")
    .description("remove plugins from the project with its package manager")
    .argument("<names...>", "built-in types or package names")
    .action(async (names: string[]) => {
      const { pluginsRemoveCommand } = await import("./commands/plugins-install.js");
      process.exitCode = await pluginsRemoveCommand(process.cwd(), names);
    });
  plugins
    .command("new")
    .description("scaffold a plugin package: clnrm-plugin-<name> (or @scope/clnrm-plugin-<name>)")
    .argument("<name>", "the service type: name or @scope/name")
    .option("--dir <dir>", "directory to create (default: clnrm-plugin-<name>)")
    .option("--registry <url>", "private registry to publish to (publishConfig.registry)")
    .action(async (name: string, opts: { dir?: string; registry?: string }) => {
      const { pluginsNewCommand } = await import("./commands/plugins-new.js");
      process.exitCode = await pluginsNewCommand(process.cwd(), name, opts);
    });

  cli
    .command("schema")
    .description("print a JSON Schema of the test-file format, with the config of every installed plugin (for editors)")
    .option("-o, --output <file>", "write it to a file instead of stdout")
    .action(async (opts: { output?: string }) => {
      const { schemaCommand } = await import("./commands/schema.js");
      process.exitCode = await schemaCommand(process.cwd(), opts);
    });

  cli
    .command("fmt")
    .description("format test files with taplo and the project's settings (.taplo.toml); comments and #:schema are kept")
    .argument("[paths...]", "test files or directories", ["."])
    .option("--check", "change nothing; exit 1 listing the files that are not formatted")
    .action(async (paths: string[], opts: { check?: boolean }) => {
      const { fmtCommand } = await import("./commands/fmt.js");
      process.exitCode = await fmtCommand(paths, opts);
    });

  cli
    .command("init")
    .description("write a starter test file, and the editor set-up and a CI workflow if asked (asks on a terminal)")
    .argument("[file]", "where to write it", "tests/example.clnrm.toml")
    .option("--force", "overwrite existing files")
    .option("--editor", "also write .taplo.toml (the rule that gives *.clnrm.toml files the schema) and clnrm.schema.json")
    .option("--no-editor", "don't ask about the editor set-up")
    .addOption(new Option("--ci <provider>", "also write a CI workflow (.github/workflows/clnrm.yml or .gitlab-ci.yml)").choices(["github", "gitlab", "none"]))
    .action(async (file: string, opts: { force?: boolean; editor?: boolean; ci?: "github" | "gitlab" | "none" }) => {
      const { initCommand } = await import("./commands/init.js");
      process.exitCode = await initCommand(file, opts);
    });

  cli
    .command("gc")
    .description("remove containers, networks and volumes left behind by clnrm runs that are no longer alive")
    .option("--all", "also remove resources of live runs (asks first) and kept volumes (model caches)")
    .option("-y, --yes", "with --all: remove live runs' resources without asking")
    .action(async (opts: { all?: boolean; yes?: boolean }) => {
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
