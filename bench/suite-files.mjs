// The generated 40-file suite shared by bench/suite.bench.mjs and packages/cli/test/load.int.test.ts:
// one alpine service and 1-2 steps each; every fourth file adds a web service on a random host port
// and a host step that connects to it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeSuite(dir, count = 40) {
  mkdirSync(dir, { recursive: true });
  const node = JSON.stringify(process.execPath);
  for (let i = 0; i < count; i++) {
    const web = i % 4 === 0;
    let src = `[meta]\nname = "load ${String(i).padStart(2, "0")}"\n\n[services.app]\ntype = "generic_container"\nimage = "alpine:latest"\n\n`;
    if (web) {
      src += `[services.web]\ntype = "generic_container"\nimage = "alpine:latest"\ncommand = ["sh", "-c", "trap 'exit 0' TERM; while true; do echo ok | nc -l -p 8080; done & wait"]\nports = ["8080"]\nhealth_check = { type = "tcp", port = 8080 }\n\n`;
    }
    src += `[[steps]]\nname = "echo"\nservice = "app"\ncommand = ["echo", "file ${i}"]\nexpected_output_regex = "^file ${i}$"\n`;
    if (i % 2 === 1) src += `\n[[steps]]\nname = "uname"\nservice = "app"\ncommand = ["uname", "-s"]\nexpected_output_regex = "Linux"\n`;
    if (web) {
      src += `\n[[steps]]\nname = "connects"\ncommand = [${node}, "-e", "require('net').connect(Number(process.argv[1]), 'localhost', () => process.exit(0)).on('error', () => process.exit(1))", "\${services.web.port}"]\n`;
    }
    writeFileSync(join(dir, `load-${String(i).padStart(2, "0")}.clnrm.toml`), src);
  }
  return dir;
}
