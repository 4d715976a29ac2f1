#!/usr/bin/env node
import { enableCompileCache } from "node:module";

// Cache compiled code on disk: testcontainers and its dependencies are a large module graph, and
// every `clnrm` start would otherwise compile it again.
enableCompileCache?.();

const { main } = await import("./main.js");
process.exitCode = await main(process.argv);
