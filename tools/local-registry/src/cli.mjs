#!/usr/bin/env node
// `pnpm --filter @clnrm/local-registry start [--publish]`: a local registry until Ctrl-C.
import { publishWorkspace, startLocalRegistry } from "./index.mjs";

const registry = await startLocalRegistry();
process.stdout.write(`verdaccio at ${registry.url}\nnpmrc: ${registry.authLine}\n`);
if (process.argv.includes("--publish")) {
  const { versions } = await publishWorkspace(registry);
  for (const [n, v] of Object.entries(versions)) process.stdout.write(`published ${n}@${v}\n`);
}
const stop = () => registry.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
