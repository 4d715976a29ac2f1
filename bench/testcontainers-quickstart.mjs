// What a developer would write by hand with testcontainers for the quickstart: start alpine, exec
// echo, check the output, remove the container.
import { GenericContainer } from "testcontainers";

const container = await new GenericContainer("alpine:latest").withCommand(["sleep", "3600"]).withLabels({ "clnrm.bench": "1" }).start();
const r = await container.exec(["echo", "hello"]);
if (r.output !== "hello\n") throw new Error(`unexpected output ${r.output}`);
await container.stop({ timeout: 0 });
