import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_REGISTRY,
  addArgs,
  authHeader,
  coreSatisfies,
  fetchPackageInfo,
  packageForName,
  parseNpmrc,
  readRegistryConfig,
  registryFor,
  removeArgs,
  searchPlugins,
} from "../src/index.js";
import { cleanup, makeProject, tempDir, write } from "./fixtures.js";

afterEach(cleanup);

describe(".npmrc", () => {
  it("parses key=value lines, comments, quotes and ${ENV}", () => {
    const rc = parseNpmrc(
      `# comment\n; other\nregistry = https://r.example.com/npm\n@acme:registry="https://acme.example.com/"\n//acme.example.com/:_authToken=\${ACME_TOKEN}\nkeep=\${MISSING}\n`,
      { ACME_TOKEN: "t0k" },
    );
    expect(rc).toEqual({
      registry: "https://r.example.com/npm",
      "@acme:registry": "https://acme.example.com/",
      "//acme.example.com/:_authToken": "t0k",
      keep: "${MISSING}",
    });
  });

  it("project .npmrc overrides the user's; npm_config_registry overrides both", () => {
    const project = makeProject();
    const user = join(tempDir(), ".npmrc");
    write(user, "registry=https://user.example/\n@u:registry=https://u.example/\n");
    write(join(project, ".npmrc"), "registry=https://project.example/\n@acme:registry=https://acme.example/npm\n");
    const nested = join(project, "tests");
    write(join(nested, "a.clnrm.toml"), "");
    const c = readRegistryConfig(nested, { env: {}, userConfig: user });
    expect(c.registry).toBe("https://project.example/");
    expect(c.scopes).toEqual({ "@u": "https://u.example/", "@acme": "https://acme.example/npm/" });
    expect(readRegistryConfig(project, { env: { npm_config_registry: "https://env.example" }, userConfig: user }).registry).toBe(
      "https://env.example/",
    );
    expect(readRegistryConfig(makeProject(), { env: {}, userConfig: join(tempDir(), "none") }).registry).toBe(DEFAULT_REGISTRY);
  });

  it("picks the scope's registry and the longest matching auth setting", () => {
    const config = {
      registry: "https://registry.npmjs.org/",
      scopes: { "@acme": "https://npm.acme.example/repo/npm/" },
      settings: {
        "//npm.acme.example/:_authToken": "host-wide",
        "//npm.acme.example/repo/npm/:_authToken": "exact",
        "//other.example/:_auth": "dXNlcjpwYXNz",
      },
    };
    expect(registryFor("@acme/clnrm-plugin-x", config)).toBe("https://npm.acme.example/repo/npm/");
    expect(registryFor("clnrm-plugin-x", config)).toBe("https://registry.npmjs.org/");
    expect(authHeader("https://npm.acme.example/repo/npm/", config)).toBe("Bearer exact");
    expect(authHeader("https://npm.acme.example/elsewhere/", config)).toBe("Bearer host-wide");
    expect(authHeader("https://other.example/x/", config)).toBe("Basic dXNlcjpwYXNz");
    expect(authHeader("https://registry.npmjs.org/", config)).toBeUndefined();
  });
});

type Call = { url: string; auth: string | undefined };
function fakeFetch(routes: Record<string, unknown>, calls: Call[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, auth: headers.authorization });
    const key = Object.keys(routes).find((k) => url.startsWith(k));
    if (key === undefined) return new Response("not found", { status: 404 });
    const body = routes[key];
    if (typeof body === "number") return new Response("", { status: body });
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

describe("search", () => {
  const config = {
    registry: "https://registry.npmjs.org/",
    scopes: { "@acme": "http://127.0.0.1:4873/" },
    settings: { "//127.0.0.1:4873/:_authToken": "secret" },
  };

  it("searches every registry, with the right auth, and keeps only clnrm plugins from the registry that serves them", async () => {
    const calls: Call[] = [];
    const fetch = fakeFetch(
      {
        "https://registry.npmjs.org/-/v1/search": {
          objects: [
            { package: { name: "clnrm-plugin-kafka", version: "1.0.0", description: "Kafka", keywords: ["clnrm-plugin"] } },
            { package: { name: "kafka-client", version: "2.0.0", keywords: ["kafka"] } },
            { package: { name: "@acme/clnrm-plugin-fake", version: "9.9.9", keywords: ["clnrm-plugin"] } },
            { package: { name: "@clnrm/plugin-kafka", version: "0.2.0", keywords: ["clnrm-plugin"] } },
          ],
        },
        "http://127.0.0.1:4873/-/v1/search": {
          objects: [{ package: { name: "@acme/clnrm-plugin-kafka", "dist-tags": { latest: "1.2.0" }, keywords: ["clnrm-plugin"] } }],
        },
      },
      calls,
    );
    const results = await searchPlugins("kafka", config, { fetch });
    expect(results.map((r) => [r.name, r.version, r.official])).toEqual([
      ["@acme/clnrm-plugin-kafka", "1.2.0", false],
      ["@clnrm/plugin-kafka", "0.2.0", true],
      ["clnrm-plugin-kafka", "1.0.0", false],
    ]);
    const npm = calls.find((c) => c.url.startsWith("https://registry.npmjs.org/"))!;
    expect(new URL(npm.url).searchParams.get("text")).toBe("kafka keywords:clnrm-plugin");
    expect(new URL(npm.url).searchParams.get("size")).toBe("100");
    expect(npm.auth).toBeUndefined();
    const local = calls.find((c) => c.url.startsWith("http://127.0.0.1:4873/"))!;
    expect(new URL(local.url).searchParams.get("text")).toBe("kafka");
    expect(local.auth).toBe("Bearer secret");
  });

  it("reports a refused registry on one line with the .npmrc fix, without the token", async () => {
    const fetch = fakeFetch({ "https://registry.npmjs.org/": { objects: [] }, "http://127.0.0.1:4873/": 401 }, []);
    const warnings: Error[] = [];
    // The other registry answered: the refusal is a warning, and the search goes on.
    expect(await searchPlugins("x", config, { fetch, onRegistryError: (e) => warnings.push(e) })).toEqual([]);
    const [err] = warnings;
    expect(warnings).toHaveLength(1);
    expect(String(err?.message)).toBe("registry http://127.0.0.1:4873/ refused the request (not logged in or no access)");
    expect((err as { hint?: string }).hint).toContain("//127.0.0.1:4873/:_authToken=${TOKEN}");
    expect(JSON.stringify(err)).not.toContain("secret");
  });

  it("fails when no registry answers", async () => {
    const fetch = fakeFetch({ "https://registry.npmjs.org/": 500, "http://127.0.0.1:4873/": 401 }, []);
    const err = await searchPlugins("x", config, { fetch }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toBe("registry https://registry.npmjs.org/ answered HTTP 500");
  });
});

describe("info", () => {
  it("reads the latest version's manifest from the packument (scoped name escaped)", async () => {
    const calls: Call[] = [];
    const fetch = fakeFetch(
      {
        "http://127.0.0.1:4873/@acme%2Fclnrm-plugin-hello": {
          name: "@acme/clnrm-plugin-hello",
          "dist-tags": { latest: "1.1.0" },
          versions: {
            "1.0.0": { description: "old" },
            "1.1.0": {
              description: "hello",
              keywords: ["clnrm-plugin"],
              clnrm: { types: ["@acme/hello"], apiVersion: 1 },
              peerDependencies: { "@clnrm/core": "^0.1.0" },
            },
          },
        },
      },
      calls,
    );
    const config = { registry: DEFAULT_REGISTRY, scopes: { "@acme": "http://127.0.0.1:4873/" }, settings: {} };
    const info = await fetchPackageInfo("@acme/clnrm-plugin-hello", config, { fetch });
    expect(info).toMatchObject({
      latest: "1.1.0",
      versions: ["1.0.0", "1.1.0"],
      description: "hello",
      manifest: { types: ["@acme/hello"], apiVersion: 1 },
      corePeerRange: "^0.1.0",
      official: false,
    });
    expect(await fetchPackageInfo("@acme/nope", config, { fetch })).toBeUndefined();
  });

  it("checks the core peer range, snapshots included", () => {
    expect(coreSatisfies("^0.1.0", "0.1.5")).toBe(true);
    expect(coreSatisfies("^0.2.0", "0.1.5")).toBe(false);
    expect(coreSatisfies("^0.1.1-e2e-20260101120000", "0.1.1-e2e-20260101120000")).toBe(true);
    expect(coreSatisfies("workspace:^", "0.1.0")).toBeUndefined();
  });
});

describe("names and package manager commands", () => {
  it("maps built-in types to their package and keeps a version apart", () => {
    expect(packageForName("ollama")).toEqual({ name: "@clnrm/plugin-ollama", spec: undefined });
    expect(packageForName("generic_container@0.2.0")).toEqual({ name: "@clnrm/plugin-generic-container", spec: "0.2.0" });
    expect(packageForName("@acme/clnrm-plugin-hello@^1")).toEqual({ name: "@acme/clnrm-plugin-hello", spec: "^1" });
    expect(packageForName("@acme/clnrm-plugin-hello")).toEqual({ name: "@acme/clnrm-plugin-hello", spec: undefined });
    expect(packageForName("@acme/redis@^2")).toEqual({ name: "@acme/clnrm-plugin-redis", spec: "^2" });
  });

  it("builds add/remove argv for each package manager", () => {
    expect(addArgs("pnpm", ["a"])).toEqual(["pnpm", "add", "-D", "a"]);
    expect(addArgs("npm", ["a", "b"])).toEqual(["npm", "install", "-D", "a", "b"]);
    expect(addArgs("yarn", ["a"])).toEqual(["yarn", "add", "-D", "a"]);
    expect(addArgs("bun", ["a"])).toEqual(["bun", "add", "-d", "a"]);
    expect(removeArgs("npm", ["a"])).toEqual(["npm", "uninstall", "a"]);
    expect(removeArgs("pnpm", ["a"])).toEqual(["pnpm", "remove", "a"]);
  });
});
