import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
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

export async function initCommand(file: string, opts: { force?: boolean }): Promise<number> {
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists && !opts.force) throw new ValidationError(`${file} already exists`, { hint: "pass --force to overwrite it, or name another file" });
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, STARTER.replace("__SCHEMA__", () => schemaRef(file)).replace("__FILE__", () => file));
  // generic_container comes with the CLI: nothing else to install for this file.
  process.stdout.write(`wrote ${file}\nnext: npx clnrm run ${file}\neditor schema: npx clnrm schema --output ${SCHEMA_FILE}\nreference: ${docsUrl("configuration")}\n`);
  return 0;
}
