import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PLUGIN_API_VERSION, ValidationError } from "@clnrm/core";
import { runningCoreVersion } from "./manifest.js";
import { COMMUNITY_PREFIX } from "./names.js";

export interface ScaffoldOptions {
  /** `hello`, `@acme/hello`, `clnrm-plugin-hello` or `@acme/clnrm-plugin-hello`. */
  readonly name: string;
  /** Where to create the package directory (its parent). */
  readonly parentDir: string;
  /** The package directory name (default: `clnrm-plugin-<name>`). */
  readonly dirName?: string;
  /** The running @clnrm/core version: the plugin-kit and dev ranges are `^<version>` (default: read from @clnrm/core). */
  readonly coreVersion?: string;
  /** A registry to publish to (`publishConfig.registry`), for a private registry. */
  readonly registry?: string;
}

export interface ScaffoldResult {
  readonly dir: string;
  /** The npm package name (`clnrm-plugin-hello`, `@acme/clnrm-plugin-hello`). */
  readonly packageName: string;
  /** The service type (`hello`, `@acme/hello`). */
  readonly type: string;
  /** Paths written, relative to `dir`. */
  readonly files: readonly string[];
}

const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;

/** `hello` → `{ type: "hello", packageName: "clnrm-plugin-hello" }`; `@acme/hello` → `@acme/clnrm-plugin-hello`. */
export function pluginNames(input: string): { type: string; packageName: string; scope: string | undefined; base: string } {
  const m = /^(?:@([^/]+)\/)?(.+)$/.exec(input.trim());
  const scope = m?.[1];
  let base = m?.[2] ?? "";
  if (base.startsWith(COMMUNITY_PREFIX)) base = base.slice(COMMUNITY_PREFIX.length);
  if (!SEGMENT.test(base) || (scope !== undefined && !SEGMENT.test(scope)) || base.includes("..")) {
    throw new ValidationError(`'${input}' is not a valid plugin name`, {
      hint: "use lowercase letters, digits, '-', '_' and '.', optionally @scope/name (e.g. kafka or @acme/kafka)",
    });
  }
  if (scope === "clnrm") {
    throw new ValidationError("the @clnrm scope is for official plugins", { hint: "use your own scope (@acme/name) or an unscoped name" });
  }
  const type = scope ? `@${scope}/${base}` : base;
  const packageName = scope ? `@${scope}/${COMMUNITY_PREFIX}${base}` : `${COMMUNITY_PREFIX}${base}`;
  return { type, packageName, scope, base };
}

/** The files of a new plugin package, path → content. */
export function scaffoldFiles(options: Omit<ScaffoldOptions, "parentDir">): { files: Record<string, string>; type: string; packageName: string } {
  const { type, packageName, base } = pluginNames(options.name);
  const coreVersion = options.coreVersion ?? runningCoreVersion();
  const coreRange = `^${coreVersion}`;
  const pkg = {
    name: packageName,
    version: "0.1.0",
    description: `clnrm service plugin: ${type}`,
    type: "module",
    license: "MIT",
    keywords: ["clnrm-plugin", "clnrm", "testing"],
    engines: { node: ">=22" },
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" }, "./package.json": "./package.json" },
    main: "./dist/index.js",
    types: "./dist/index.d.ts",
    files: ["dist", "README.md"],
    clnrm: { types: [type], apiVersion: PLUGIN_API_VERSION },
    scripts: {
      build: "tsc -p tsconfig.build.json",
      typecheck: "tsc -p tsconfig.json --noEmit",
      test: "vitest run",
      prepublishOnly: "npm run build",
    },
    // The contract, by plugin API major: a core minor release never makes this range unmet.
    peerDependencies: { "@clnrm/plugin-api": `^${PLUGIN_API_VERSION}.0.0` },
    // Runtime helpers (config fragments, z): a regular dependency, it may have its own copy.
    dependencies: { "@clnrm/plugin-kit": coreRange },
    devDependencies: {
      "@clnrm/core": coreRange,
      "@clnrm/plugin-api": `^${PLUGIN_API_VERSION}.0.0`,
      "@clnrm/docker": coreRange,
      "@types/node": "^24.0.0",
      typescript: "^5.9.0",
      vitest: "^3.2.0",
    },
    publishConfig: options.registry ? { registry: options.registry } : { access: "public" },
  };
  const tsconfig = {
    compilerOptions: {
      target: "ES2023",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      declaration: true,
      sourceMap: true,
      skipLibCheck: true,
      verbatimModuleSyntax: true,
      types: ["node"],
      rootDir: ".",
      noEmit: true,
    },
    include: ["src", "test"],
  };
  const tsconfigBuild = {
    extends: "./tsconfig.json",
    compilerOptions: { rootDir: "src", outDir: "dist", noEmit: false },
    include: ["src"],
  };
  const index = `import { type ContainerSpec, definePlugin, HealthStatus, runOptions } from "@clnrm/plugin-api";
import { envSchema, z } from "@clnrm/plugin-kit";

/** The service table, without \`type\`: unknown keys are rejected. */
export const configSchema = z.strictObject({
  /** The image to run. Pin a version tag. */
  image: z.string().trim().min(1).default("alpine:3.20"),
  env: envSchema.default({}),
  /** What the service says when asked: exposed as the \`greeting\` output. */
  greeting: z.string().min(1).default("hello from ${base}"),
  /** A secret: listed in secretFields, passed through secretEnv, never logged. */
  token: z.string().min(1).optional(),
});

export type Config = z.output<typeof configSchema>;

/** The container this plugin runs for a config: plain data, so a unit test can assert it without Docker. */
export function toContainerSpec(config: Config): ContainerSpec {
  return {
    image: config.image,
    env: { ...config.env, GREETING: config.greeting, ...(config.token ? { TOKEN: config.token } : {}) },
    // Names of env vars whose values are never shown in logs or errors.
    ...(config.token ? { secretEnv: ["TOKEN"] } : {}),
    // A bare image exits at once; keep it up so steps can exec in it.
    keepAlive: true,
  };
}

export default definePlugin({
  type: ${JSON.stringify(type)},
  description: "Describe what this service is",
  configSchema,
  secretFields: ["token"],
  create(config) {
    const spec = toContainerSpec(config);
    return {
      async start(ctx) {
        // Every container goes through ctx.backend, so a failed start releases it.
        const container = await ctx.backend.run(spec, runOptions(ctx));
        return {
          service: ctx.service,
          primary: container,
          containers: [container],
          outputs: { host: container.host, container: container.name, greeting: config.greeting },
        };
      },
      async healthCheck(handle) {
        const state = await handle.primary?.state();
        return state?.running ? HealthStatus.healthy() : HealthStatus.unhealthy("container is not running");
      },
      // No stop: clnrm removes the handle's containers. Add a \`stop(handle)\` method only for what
      // is not a container (a temp dir, a connection); \`handle.data\` is typed from what start returns.
    };
  },
});
`;
  const test = `import { DockerBackend } from "@clnrm/docker";
import { pluginConformance } from "@clnrm/core/testing";
import { describe, expect, it } from "vitest";
import plugin, { configSchema, toContainerSpec } from "../src/index.js";

describe("spec", () => {
  it("runs the pinned image with the greeting", () => {
    const spec = toContainerSpec(configSchema.parse({ greeting: "hi" }));
    expect(spec.image).toBe("alpine:3.20");
    expect(spec.env).toEqual({ GREETING: "hi" });
    expect(spec.keepAlive).toBe(true);
  });

  it("passes the token as a secret env var", () => {
    const spec = toContainerSpec(configSchema.parse({ token: "s3cret" }));
    expect(spec.env?.TOKEN).toBe("s3cret");
    expect(spec.secretEnv).toEqual(["TOKEN"]);
    expect(plugin.secretFields).toEqual(["token"]);
  });
});

// Needs a container engine and an image that exists locally.
pluginConformance({
  definition: plugin,
  backend: () => new DockerBackend(),
  validConfig: { image: "alpine:latest" },
  invalidConfigs: [{ image: "" }, { bogus: 1 }, { greeting: 42 }],
});
`;
  const readme = `# ${packageName}

A [clnrm](https://www.npmjs.com/package/@clnrm/cli) service plugin providing \`type = "${type}"\`.

\`\`\`sh
npm install -D ${packageName}
\`\`\`

\`\`\`toml
[services.app]
type = "${type}"
greeting = "hi"

[[steps]]
name = "greets"
service = "app"
run = "sh -c 'echo $GREETING'"
expect_output = "hi"
\`\`\`

| key | type | default | |
|---|---|---|---|
| \`image\` | string | \`alpine:3.20\` | image to run |
| \`env\` | table | \`{}\` | environment |
| \`greeting\` | string | \`hello from ${base}\` | exposed as the \`greeting\` output |
| \`token\` | string (secret) | — | passed as \`TOKEN\`, never logged |

Outputs: \`host\`, \`container\`, \`greeting\`.

## Develop

\`\`\`sh
npm install
npm run typecheck
npm test        # spec tests + the clnrm conformance suite (needs Docker)
npm publish     # runs the build first
\`\`\`
`;
  return {
    type,
    packageName,
    files: {
      "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
      "tsconfig.json": `${JSON.stringify(tsconfig, null, 2)}\n`,
      "tsconfig.build.json": `${JSON.stringify(tsconfigBuild, null, 2)}\n`,
      "src/index.ts": index,
      "test/plugin.test.ts": test,
      "README.md": readme,
      ".gitignore": "node_modules\ndist\n",
    },
  };
}

/** Writes a new plugin package directory. Refuses to write into a non-empty directory. */
export function scaffoldPlugin(options: ScaffoldOptions): ScaffoldResult {
  const { files, type, packageName } = scaffoldFiles(options);
  const dirName = options.dirName ?? `${COMMUNITY_PREFIX}${pluginNames(options.name).base}`;
  const dir = resolve(options.parentDir, dirName);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ValidationError(`${dir} already exists and is not empty`, { hint: "choose another name or directory (--dir)" });
  }
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return { dir, packageName, type, files: Object.keys(files) };
}
