import { z } from "@clnrm/core";

/**
 * A service's fixed host port: `15432`, `"15432"` or `"15432:5432"` (the container side, if given,
 * must be the server's own port). Parses to the host port; `server` names the server in the error.
 */
export function fixedHostPortSchema(containerPort: number, server: string) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(String(v).trim());
    const host = m ? Number(m[1]) : Number.NaN;
    if (!m || !Number.isInteger(host) || host < 1 || host > 65535) {
      ctx.addIssue({ code: "custom", message: `invalid port "${v}": use a host port such as 1${containerPort} or "1${containerPort}:${containerPort}"` });
      return z.NEVER;
    }
    if (m[2] !== undefined && Number(m[2]) !== containerPort) {
      ctx.addIssue({ code: "custom", message: `invalid port "${v}": ${server} listens on container port ${containerPort}; use "${host}:${containerPort}"` });
      return z.NEVER;
    }
    return host;
  });
}
