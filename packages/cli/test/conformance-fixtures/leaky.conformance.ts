// Run by ../conformance-leaky.int.test.ts in its own vitest, not by the package's test run: the
// conformance suite of @clnrm/core/testing against deliberately LEAKY plugins, one per place a
// secret can leak, and one honest plugin. Each leaky plugin must fail the suite's secret check with
// the message that names its leak; the honest one must pass it.
import { definePlugin, HealthStatus, type Outputs, runOptions, type ServiceHandle, z } from "@clnrm/core";
import { pluginConformance } from "@clnrm/core/testing";
import { DockerBackend } from "@clnrm/docker";

type Leak = "none" | "log" | "output" | "health" | "label" | "command" | "env" | "name" | "error" | "unlisted";

const configSchema = z.object({ image: z.string().min(1), credential: z.string().optional() }).strict();

function leakyPlugin(leak: Leak) {
  let starts = 0;
  return definePlugin({
    type: `leaky-${leak}`,
    description: `a plugin that leaks its secret (${leak})`,
    configSchema,
    // "unlisted": the secret field is not declared, so nothing registers it and reports show it.
    secretFields: leak === "unlisted" ? [] : ["credential"],
    create(config) {
      const secret = config.credential ?? "";
      return {
        async start(ctx) {
          starts++;
          // "error": the first start succeeds; any later one fails naming the secret, as a plugin
          // that puts its connection string in an error would.
          if (leak === "error" && starts > 1) throw new Error(`cannot log in with password ${secret}`);
          if (leak === "log") ctx.log.progress(`logging in with ${secret}`);
          const container = await ctx.backend.run(
            {
              image: config.image,
              init: true,
              command: leak === "command" ? ["sh", "-c", "exec sleep 3600", secret] : ["sleep", "3600"],
              env: { APP_CREDENTIAL: secret },
              // The honest way: the env entry is declared secret. "env" forgets to.
              ...(leak === "env" ? {} : { secretEnv: ["APP_CREDENTIAL"] }),
              ...(leak === "label" ? { labels: { "acme.credential": secret } } : {}),
            },
            // "name": the secret in the service name reaches the container's name and labels, which
            // only `docker inspect` shows (the spec the plugin passed does not hold it).
            runOptions(ctx, leak === "name" ? { service: `${ctx.service}-${secret}` } : {}),
          );
          const outputs: Outputs = leak === "output" ? { host: container.host, dsn: `acme://admin:${secret}@${container.host}` } : { host: container.host };
          return { service: ctx.service, primary: container, containers: [container], outputs };
        },
        async healthCheck(handle: ServiceHandle) {
          const s = await handle.primary!.state();
          if (!s.running) return HealthStatus.failed("not running");
          return leak === "health" ? HealthStatus.healthy(`logged in as admin/${secret}`) : HealthStatus.healthy();
        },
        async stop(handle: ServiceHandle) {
          for (const c of handle.containers) await c.remove();
        },
      };
    },
  });
}

const leaks = (process.env.CLNRM_LEAKS ?? "none,log,output,health,label,command,env,name,error,unlisted").split(",") as Leak[];
for (const leak of leaks) {
  pluginConformance({
    definition: leakyPlugin(leak),
    backend: () => new DockerBackend(),
    validConfig: { image: "alpine:latest" },
    invalidConfigs: [{ image: "" }],
    secretConfig: (secret) => ({ image: "alpine:latest", credential: secret }),
    testTimeoutMs: 90_000,
    // The outer test finds what the run left by this name (the "name" leak appends the secret).
    service: process.env.CLNRM_LEAKY_SERVICE ?? "svc",
  });
}
