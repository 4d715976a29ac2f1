#!/usr/bin/env node
// No static imports: they link before any code runs, so on an old Node a missing export would be a
// SyntaxError with a stack trace instead of this one line.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(`clnrm needs Node.js 22 or newer (this is v${process.versions.node})\n`);
  process.exit(2);
}

// Cache compiled code on disk: testcontainers and its dependencies are a large module graph, and
// every `clnrm` start would otherwise compile it again.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();

// Plugins installed beside the CLI (its own dependencies: generic_container; a global install, an npx
// cache) resolve after the test file's project and the cwd's.
const { addCliDir } = await import("@clnrm/marketplace/list");
addCliDir(import.meta.dirname);

// testcontainers' optional dependencies (an HTTP client, archivers, docker-compose, gRPC, ssh2, ...)
// load on first use instead of with testcontainers: ~250 ms of every `clnrm run`. A require hook for
// this process only: importing @clnrm/docker changes nothing, so a library user's process is left alone.
const { deferOptionalDependencies } = await import("@clnrm/docker/lazy-deps");
deferOptionalDependencies();

const { main } = await import("./main.js");
process.exitCode = await main(process.argv);
