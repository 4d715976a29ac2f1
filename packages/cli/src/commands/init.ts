import { access, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ValidationError } from "@clnrm/core";

export const STARTER = `#:schema ./clnrm.schema.json
# A clnrm test: the services it needs, and the steps to run against them.
# Run it:       npx clnrm run __FILE__
# Reference:    docs/configuration.md of clnrm; editor schema: npx clnrm schema --output clnrm.schema.json

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

export async function initCommand(file: string, opts: { force?: boolean }): Promise<number> {
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists && !opts.force) throw new ValidationError(`${file} already exists`, { hint: "pass --force to overwrite it, or name another file" });
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, STARTER.replace("__FILE__", file));
  process.stdout.write(`wrote ${file}\nnext: npm install -D @clnrm/plugin-generic-container && npx clnrm run ${file}\n`);
  return 0;
}
