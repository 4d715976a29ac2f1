import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { ValidationError } from "@clnrm/core";
import { loadDocument } from "@clnrm/runner";
import { collectTestFiles } from "../files.js";
import { EXIT } from "../main.js";

/** Taplo's configuration file names, in the order taplo looks for them. */
const CONFIG_NAMES = [".taplo.toml", "taplo.toml"];

/** The project's taplo settings: the nearest .taplo.toml (or taplo.toml) from `dir` up. */
export function findTaploConfig(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    for (const name of CONFIG_NAMES) if (existsSync(join(d, name))) return join(d, name);
    if (dirname(d) === d) return undefined;
  }
}

/** The taplo CLI that comes with @clnrm/cli (a Node program: taplo compiled to WebAssembly). */
function taploBin(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve("@taplo/cli/package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { bin: { taplo: string } };
  return join(dirname(pkgFile), pkg.bin.taplo);
}

interface TaploRun {
  code: number;
  stderr: string;
}

function taplo(args: string[]): Promise<TaploRun> {
  return new Promise((done) => {
    execFile(process.execPath, [taploBin(), ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      done({ code, stderr });
    });
  });
}

/**
 * `clnrm fmt [paths]`: formats test files with taplo and the project's taplo settings (comments and
 * the `#:schema` line are kept). `--check` changes nothing and exits 1 listing the files that are
 * not formatted. A file that isn't valid TOML is reported at its line, exit 2, nothing formatted.
 */
export async function fmtCommand(paths: string[], opts: { check?: boolean }): Promise<number> {
  const files = await collectTestFiles(paths);
  // Syntax first, with clnrm's own messages (file:line:col): taplo would format around the error.
  const problems: ValidationError[] = [];
  await Promise.all(
    files.map((f) =>
      loadDocument(f).catch((err: unknown) => {
        if (err instanceof ValidationError) problems.push(err);
        else throw err;
      }),
    ),
  );
  problems.sort((a, b) => (a.location?.file ?? "").localeCompare(b.location?.file ?? ""));
  const [first, ...rest] = problems;
  if (first) {
    // One error, each further file's problem on a line of its own (as the runner combines them).
    if (rest.length === 0) throw first;
    throw new ValidationError([first.hint ? `${first.message} (${first.hint})` : first.message, ...rest.map((p) => p.format())].join("\n"), first.location ? { location: first.location } : {});
  }

  const config = findTaploConfig(process.cwd());
  const args = ["fmt", "--colors", "never", ...(config ? ["--config", config] : []), ...(opts.check ? ["--check"] : []), ...files];
  const show = (f: string) => relative(process.cwd(), f) || f;
  if (opts.check) {
    const r = await taplo(args);
    const unformatted = [...r.stderr.matchAll(/not properly formatted path="([^"]+)"/g)].map((m) => resolve(m[1]!));
    if (r.code !== 0 && unformatted.length === 0) throw taploFailed(r);
    for (const f of unformatted) process.stdout.write(`${show(f)}\n`);
    if (unformatted.length) {
      process.stderr.write(`${unformatted.length} of ${files.length} file(s) not formatted: run clnrm fmt${paths.length ? ` ${paths.join(" ")}` : ""}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`${files.length} file(s) formatted\n`);
    return EXIT.passed;
  }
  const before = await Promise.all(files.map((f) => readFile(f, "utf8")));
  const r = await taplo(args);
  if (r.code !== 0) throw taploFailed(r);
  const after = await Promise.all(files.map((f) => readFile(f, "utf8")));
  const changed = files.filter((_, i) => before[i] !== after[i]);
  for (const f of changed) process.stdout.write(`formatted ${show(f)}\n`);
  process.stderr.write(`${changed.length} of ${files.length} file(s) changed${config ? ` (settings: ${show(config)})` : ""}\n`);
  return EXIT.passed;
}

function taploFailed(r: TaploRun): ValidationError {
  const lines = r.stderr.split("\n").filter((l) => /\b(ERROR|WARN)\b/.test(l));
  return new ValidationError(`taplo could not format the files: ${lines.join("; ").replace(/\s+/g, " ").trim() || `exit ${r.code}`}`, {
    hint: "check the taplo settings (.taplo.toml)",
  });
}
