// An offline verdaccio for clnrm's end-to-end tests: publish the workspace under a changesets snapshot
// version, then install it in a clean project like a user would. Plain Node ESM (a tool, not a package).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
/** The monorepo root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function configYaml(dir) {
  return `storage: ${JSON.stringify(join(dir, "storage"))}
auth:
  htpasswd:
    file: ${JSON.stringify(join(dir, "htpasswd"))}
    max_users: 100
# Offline: nothing is proxied.
uplinks: {}
packages:
  "@acme/*":
    access: $authenticated
    publish: $authenticated
    unpublish: $authenticated
  "@clnrm/*":
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  "**":
    access: $all
    publish: $authenticated
    unpublish: $authenticated
web:
  enable: false
server:
  keepAliveTimeout: 60
max_body_size: 100mb
log: { type: stdout, format: pretty, level: warn }
`;
}

/**
 * Starts verdaccio offline on 127.0.0.1 and a random free port, with storage and htpasswd in a temp
 * dir, and creates a user. Resolves to `{ url, token, user, password, dir, stop() }`.
 */
export async function startLocalRegistry({ user = "e2e", password = "e2e-password-1" } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-registry-"));
  mkdirSync(join(dir, "storage"), { recursive: true });
  writeFileSync(join(dir, "config.yaml"), configYaml(dir));
  const pkgDir = dirname(require.resolve("verdaccio/package.json"));
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const bin = join(pkgDir, typeof pkg.bin === "string" ? pkg.bin : pkg.bin.verdaccio);
  let child;
  let url;
  let output = "";
  for (let attempt = 0; attempt < 3 && !url; attempt++) {
    const port = await freePort();
    child = spawn(process.execPath, [bin, "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    child.stdout.on("data", (d) => (output = (output + d).slice(-4000)));
    child.stderr.on("data", (d) => (output = (output + d).slice(-4000)));
    const exited = new Promise((r) => child.once("exit", () => r("exit")));
    const base = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`${base}-/ping`).then((r) => r.ok, () => false);
      if (ok) {
        url = base;
        break;
      }
      if ((await Promise.race([exited, sleep(150)])) === "exit") break;
    }
    if (!url) child.kill("SIGKILL");
  }
  if (!url) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`verdaccio did not start: ${output.trim()}`);
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(user)}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ _id: `org.couchdb.user:${user}`, name: user, password, type: "user", roles: [] }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== "string") {
    child.kill("SIGKILL");
    throw new Error(`creating user ${user} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  const proc = child;
  return {
    url,
    token: body.token,
    user,
    password,
    dir,
    /** `//127.0.0.1:PORT/:_authToken=TOKEN`, for an .npmrc. */
    authLine: `//${new URL(url).host}/:_authToken=${body.token}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([gone, sleep(5000).then(() => proc.kill("SIGKILL"))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command; resolves to `{ code, stdout, stderr }` (never rejects on a non-zero exit). */
export function exec(cmd, args, { cwd, env = process.env, input, timeoutMs = 180_000 } = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, env, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      res({ code: code ?? (signal ? 128 : 0), stdout, stderr });
    });
  });
}

async function mustExec(cmd, args, opts) {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code}) in ${opts?.cwd}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The workspace's publishable packages (packages/*, not private): `{ dir, name, version }`. */
export function workspacePackages(root = REPO_ROOT) {
  const out = [];
  for (const e of readdirSync(join(root, "packages"))) {
    const file = join(root, "packages", e, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    if (!pkg.private) out.push({ dir: join(root, "packages", e), name: pkg.name, version: pkg.version });
  }
  return out;
}

const changesetBin = () => join(REPO_ROOT, "node_modules", ".bin", "changeset");
const pnpmBin = () => "pnpm";

/**
 * A throwaway copy of the workspace's publishable part (packages/* without node_modules, a root
 * package.json, pnpm-workspace.yaml and a .changeset config), so versioning never touches the real tree.
 * The packages must be built (their dist is copied).
 */
export function copyWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), "clnrm-ws-copy-"));
  try {
    return fillCopy(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function fillCopy(dir) {
  const all = workspacePackages();
  // A package without dist would publish empty; leave it out (turbo builds everything before tests).
  const pkgs = all.filter((p) => existsSync(join(p.dir, "dist")));
  const skipped = all.filter((p) => !pkgs.includes(p)).map((p) => p.name);
  for (const p of pkgs) {
    cpSync(p.dir, join(dir, "packages", p.dir.split("/").pop()), {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|\.turbo)([/\\]|$)/.test(src),
    });
  }
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "clnrm-publish-copy", private: true, type: "module" }, null, 2)}\n`);
  writeFileSync(join(dir, "pnpm-workspace.yaml"), 'packages:\n  - "packages/*"\n');
  mkdirSync(join(dir, ".changeset"));
  const real = JSON.parse(readFileSync(join(REPO_ROOT, ".changeset", "config.json"), "utf8"));
  // No git here: no changelog, no commit; only packages that exist.
  writeFileSync(
    join(dir, ".changeset", "config.json"),
    `${JSON.stringify({ ...real, changelog: false, commit: false, ignore: [] }, null, 2)}\n`,
  );
  return { dir, packages: pkgs.map((p) => p.name), skipped };
}

/** Writes a changeset into a workspace copy. `bumps`: package name → "patch" | "minor" | "major". */
export function addChangeset(copyDir, id, bumps, summary = "e2e") {
  const head = Object.entries(bumps)
    .map(([n, b]) => `"${n}": ${b}`)
    .join("\n");
  writeFileSync(join(copyDir, ".changeset", `${id}.md`), `---\n${head}\n---\n\n${summary}\n`);
}

/** The versions in a workspace copy: name → version. */
export function copyVersions(copyDir) {
  const out = {};
  for (const e of readdirSync(join(copyDir, "packages"))) {
    const pkg = JSON.parse(readFileSync(join(copyDir, "packages", e, "package.json"), "utf8"));
    out[pkg.name] = pkg.version;
  }
  return out;
}

/** `changeset version` (or `--snapshot <tag>`) in a workspace copy. */
export async function changesetVersion(copyDir, snapshotTag) {
  const args = snapshotTag ? ["version", "--snapshot", snapshotTag] : ["version"];
  return mustExec(changesetBin(), args, { cwd: copyDir, env: { ...process.env, CI: "1" } });
}

/**
 * Replaces `workspace:` ranges in a copy's package.json files with the copy's versions, as `pnpm publish`
 * does (`workspace:^` → `^1.2.3`, `workspace:~` → `~1.2.3`, `workspace:*` → `1.2.3`); the copy has no
 * node_modules for pnpm to resolve them from.
 */
export function resolveWorkspaceRanges(copyDir) {
  const versions = copyVersions(copyDir);
  for (const e of readdirSync(join(copyDir, "packages"))) {
    const file = join(copyDir, "packages", e, "package.json");
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (typeof range !== "string" || !range.startsWith("workspace:")) continue;
        const v = versions[name];
        const r = range.slice("workspace:".length);
        if (!v) {
          // A workspace package that isn't published (not built): a dev dependency can go.
          if (field === "devDependencies") delete pkg[field][name];
          else throw new Error(`${pkg.name} depends on ${name} (${range}), which is not in the copy`);
          continue;
        }
        pkg[field][name] = r === "^" || r === "~" ? `${r}${v}` : r === "*" || r === "" ? v : r;
      }
    }
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}

/**
 * `pnpm publish -r` from a workspace copy to the registry with its token (`workspace:^` ranges become
 * the copy's versions). pnpm skips packages whose version the registry already has.
 */
export async function publishCopy(copyDir, registry) {
  // Resolve workspace: ranges for publishing only, so the copy can be versioned again afterwards.
  const manifests = readdirSync(join(copyDir, "packages")).map((e) => join(copyDir, "packages", e, "package.json"));
  const originals = manifests.map((f) => [f, readFileSync(f, "utf8")]);
  resolveWorkspaceRanges(copyDir);
  const host = new URL(registry.url).host;
  writeFileSync(join(copyDir, ".npmrc"), `registry=${registry.url}\n//${host}/:_authToken=${registry.token}\n`);
  try {
    return await mustExec(pnpmBin(), ["publish", "-r", "--no-git-checks", "--registry", registry.url], {
      cwd: copyDir,
      env: { ...cleanNpmEnv(), npm_config_registry: registry.url },
    });
  } finally {
    for (const [f, text] of originals) writeFileSync(f, text);
  }
}

/** process.env without npm/pnpm config variables (a `pnpm test` parent sets some), plus `extra`. */
export function cleanNpmEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm|pnpm)_(config|package|lifecycle)_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Publishes a package directory (a fixture) with npm, with the registry's token. */
export async function publishDir(dir, registry, { env = {} } = {}) {
  const host = new URL(registry.url).host;
  const npmrc = join(mkdtempSync(join(tmpdir(), "clnrm-npmrc-")), ".npmrc");
  writeFileSync(npmrc, `//${host}/:_authToken=${registry.token}\n`);
  try {
    return await mustExec("npm", ["publish", "--registry", registry.url], {
      cwd: dir,
      env: cleanNpmEnv({ npm_config_userconfig: npmrc, ...env }),
    });
  } finally {
    rmSync(dirname(npmrc), { recursive: true, force: true });
  }
}

/**
 * Publishes every workspace package to `registry` under a changesets snapshot version
 * (`<next>-<tag>-<datetime>`), from a temp copy of the workspace. Resolves to
 * `{ versions: name → version, copyDir, cleanup() }`.
 */
export async function publishWorkspace(registry, { tag = "e2e", keepCopy = false } = {}) {
  const { dir, packages, skipped } = copyWorkspace();
  try {
    addChangeset(dir, "e2e-snapshot", Object.fromEntries(packages.map((n) => [n, "patch"])));
    await changesetVersion(dir, tag);
    const versions = copyVersions(dir);
    await publishCopy(dir, registry);
    return { versions, skipped, copyDir: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    if (!keepCopy) rmSync(dir, { recursive: true, force: true });
  }
}

/** A packument from the registry (with the token when given); undefined on 404. */
export async function packument(registry, name, token) {
  const esc = name.startsWith("@") ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
  const res = await fetch(`${registry.url}${esc}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${name}: HTTP ${res.status}`);
  return res.json();
}
