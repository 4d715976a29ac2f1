import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { docsUrl, ValidationError } from "@clnrm/core";

/** Where the starter's `#:schema` line points: the file `clnrm schema --output` writes, run where init ran. */
export const SCHEMA_FILE = "clnrm.schema.json";

export const STARTER = `#:schema __SCHEMA__
# A clnrm test: the services it needs, and the steps to run against them.
# Run it:         npx clnrm run __FILE__
# Editor schema:  npx clnrm schema --output ${SCHEMA_FILE}  (run where init ran: the #:schema line points there)
# Reference:      ${docsUrl("configuration")}

[meta]
name = "example"
description = "a web server answers a client on the run network"
tags = ["example"]

[services.web]
type = "generic_container"
image = "nginx:1.27"
ports = ["80"]                                   # a random host port; "8080:80" fixes it
health_check = { type = "http", port = 80, path = "/" }

[services.client]
type = "generic_container"
image = "alpine:3.20"                             # a bare shell is kept running for steps
depends_on = ["web"]

[[steps]]
name = "client reaches web by its service name"
service = "client"
command = ["wget", "-qO-", "http://web:80/"]
expected_output_regex = "nginx"

[[steps]]
name = "the host reaches web on its mapped port"
command = ["node", "-e", "fetch('\${services.web.url}').then(r => process.exit(r.ok ? 0 : 1))"]
`;

/** The `#:schema` reference from `file` to `cwd/clnrm.schema.json`, relative and with forward slashes. */
export function schemaRef(file: string, cwd: string = process.cwd()): string {
  const rel = relative(dirname(resolve(cwd, file)), resolve(cwd, SCHEMA_FILE)).split(sep).join("/");
  return rel.startsWith("../") ? rel : `./${rel}`;
}

/** The rule that tells taplo (and Even Better TOML) which schema checks and completes `*.clnrm.toml` files. */
export const TAPLO_RULE = `# clnrm test files: checked and completed against the schema \`npx clnrm schema --output ${SCHEMA_FILE}\` writes
# (run it again after installing a plugin). Settings for \`clnrm fmt\` go in [formatting].
[[rule]]
include = ["**/*.clnrm.toml"]

[rule.schema]
path = "./${SCHEMA_FILE}"
`;

export type CiProvider = "github" | "gitlab";

/** Where each CI provider's file goes. */
export const CI_FILES: Record<CiProvider, string> = { github: ".github/workflows/clnrm.yml", gitlab: ".gitlab-ci.yml" };

/** The workflow `init --ci github` writes (docs/ci.md shows the same one). `__TESTS__`: the tests' directory. */
export const GITHUB_WORKFLOW = `# clnrm integration tests, split over 3 jobs (--shard i/n). See docs/ci.md.
name: clnrm
on:
  push:
    branches: [main]
  pull_request:

jobs:
  clnrm:
    runs-on: ubuntu-latest # Docker is installed and running on GitHub's Ubuntu runners
    timeout-minutes: 30
    strategy:
      fail-fast: false
      matrix:
        shard: [1, 2, 3]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          cache: npm # the npm cache, keyed by package-lock.json
      - run: npm ci
      # The images the tests use, kept between runs (a docker save of what the last run pulled).
      - id: images
        uses: actions/cache@v4
        with:
          path: ~/.cache/clnrm-images
          key: clnrm-images-\${{ runner.os }}-\${{ hashFiles('__TESTS__/**/*.clnrm.toml') }}
          restore-keys: clnrm-images-\${{ runner.os }}-
      - name: Load cached images
        run: if [ -f ~/.cache/clnrm-images/images.tar ]; then docker load -i ~/.cache/clnrm-images/images.tar; fi
      - name: Run clnrm (shard \${{ matrix.shard }}/3)
        run: npx clnrm run __TESTS__ --shard \${{ matrix.shard }}/3 --reporter github --output clnrm-\${{ matrix.shard }}.xml
      - name: Save images
        if: always() && steps.images.outputs.cache-hit != 'true'
        run: |
          mkdir -p ~/.cache/clnrm-images
          docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | xargs -r docker save -o ~/.cache/clnrm-images/images.tar
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: clnrm-junit-\${{ matrix.shard }}
          path: clnrm-\${{ matrix.shard }}.xml
`;

/** The job `init --ci gitlab` writes (docs/ci.md shows the same one). */
export const GITLAB_CI = `# clnrm integration tests, split over 3 jobs (--shard i/n). See docs/ci.md.
clnrm:
  image: node:22 # Debian bookworm: the docker client comes from its docker.io package
  services:
    - name: docker:27-dind
      alias: docker
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
    # The ports of the containers the tests start are published on the dind service, not on localhost.
    TESTCONTAINERS_HOST_OVERRIDE: docker
    npm_config_cache: $CI_PROJECT_DIR/.npm
  parallel: 3
  cache:
    - key:
        files: [package-lock.json]
      paths: [.npm/]
    - key: clnrm-images
      paths: [.clnrm-images/]
  before_script:
    - apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    - npm ci
    - if [ -f .clnrm-images/images.tar ]; then docker load -i .clnrm-images/images.tar; fi
  script:
    - npx clnrm run __TESTS__ --shard $CI_NODE_INDEX/$CI_NODE_TOTAL --reporter junit --output clnrm.xml
  after_script:
    - mkdir -p .clnrm-images
    - docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | xargs -r docker save -o .clnrm-images/images.tar
  artifacts:
    when: always
    paths: [clnrm.xml]
    reports:
      junit: clnrm.xml
`;

type Prompt = (question: string) => Promise<string>;

/** Asks on the terminal (only when both stdin and stdout are one). */
async function ask(): Promise<{ prompt: Prompt; close: () => void }> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  return { prompt: (q) => rl.question(q), close: () => rl.close() };
}

export interface InitOptions {
  force?: boolean;
  /** Write .taplo.toml (the schema rule) and clnrm.schema.json. */
  editor?: boolean;
  /** Write a CI workflow for this provider ("none": don't). */
  ci?: CiProvider | "none";
}

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

export async function initCommand(file: string, opts: InitOptions, cwd: string = process.cwd()): Promise<number> {
  if ((await exists(file)) && !opts.force) throw new ValidationError(`${file} already exists`, { hint: "pass --force to overwrite it, or name another file" });
  let { editor, ci } = opts;
  // Asked on a terminal when no flag says; without a terminal (a script, CI) only the test file.
  if (editor === undefined && ci === undefined && process.stdin.isTTY && process.stdout.isTTY) {
    const { prompt, close } = await ask();
    try {
      editor = !/^n/i.test((await prompt(`Set up the editor (.taplo.toml rule and ${SCHEMA_FILE})? [Y/n] `)).trim());
      const answer = (await prompt("Write a CI workflow? [github/gitlab/N] ")).trim().toLowerCase();
      ci = answer.startsWith("gh") || answer.startsWith("github") ? "github" : answer.startsWith("gl") || answer.startsWith("gitlab") ? "gitlab" : "none";
    } finally {
      close();
    }
  }
  const ciFile = ci && ci !== "none" ? CI_FILES[ci] : undefined;
  if (ciFile && (await exists(resolve(cwd, ciFile))) && !opts.force) {
    throw new ValidationError(`${ciFile} already exists`, { hint: "pass --force to overwrite it, or add the job from docs/ci.md by hand" });
  }

  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, STARTER.replace("__SCHEMA__", () => schemaRef(file, cwd)).replace("__FILE__", () => file));
  const wrote = [file];
  if (editor) wrote.push(...(await writeEditorSetup(cwd)));
  if (ciFile && ci && ci !== "none") {
    const testsDir = relative(cwd, dirname(resolve(cwd, file))).split(sep).join("/") || ".";
    const target = resolve(cwd, ciFile);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, (ci === "github" ? GITHUB_WORKFLOW : GITLAB_CI).replaceAll("__TESTS__", testsDir));
    wrote.push(ciFile);
  }
  // generic_container comes with the CLI: nothing else to install for this file.
  process.stdout.write(
    `${wrote.map((w) => `wrote ${w}\n`).join("")}next: npx clnrm run ${file}\n${editor ? "" : `editor schema: npx clnrm init --editor (or npx clnrm schema --output ${SCHEMA_FILE})\n`}reference: ${docsUrl("configuration")}\n`,
  );
  return 0;
}

/** `.taplo.toml` with the schema rule (appended to one that has none), and the schema of the plugins installed here. */
async function writeEditorSetup(cwd: string): Promise<string[]> {
  const wrote: string[] = [];
  const config = join(cwd, ".taplo.toml");
  const current = await readFile(config, "utf8").catch(() => undefined);
  if (current === undefined) {
    await writeFile(config, TAPLO_RULE);
    wrote.push(".taplo.toml");
  } else if (!current.includes(".clnrm.toml")) {
    // A table appended at the end is valid TOML whatever the file holds.
    await writeFile(config, `${current}${current.endsWith("\n") || current === "" ? "" : "\n"}\n${TAPLO_RULE}`);
    wrote.push(".taplo.toml (rule added)");
  }
  const { buildSchema } = await import("./schema.js");
  await writeFile(join(cwd, SCHEMA_FILE), `${JSON.stringify(await buildSchema(cwd), null, 2)}\n`);
  wrote.push(SCHEMA_FILE);
  return wrote;
}
