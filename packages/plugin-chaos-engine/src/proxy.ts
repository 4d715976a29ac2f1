/**
 * The TCP delay proxy used for latency when the kernel has no `sch_netem`. It runs as
 * `node -e PROXY_SCRIPT` in a sidecar that shares the target's network namespace, as uid
 * PROXY_UID; iptables redirects connections for port P to the proxy's port Q (incoming ones in nat
 * PREROUTING, the target's own over loopback in nat OUTPUT -o lo), and the proxy forwards them to
 * 127.0.0.1:P (its uid exempts that connection from the loopback redirect). It listens on every
 * address, IPv6 included where the netns has it, so a redirect from ::1 reaches it too. Like netem on the target's egress, it delays what the target sends back: each chunk
 * is released `latency ± jitter` ms after it arrived, in order, so throughput is kept.
 *
 * Routes come from the environment variable CLNRM_CHAOS_PROXY: `{"routes":[{"listen":Q,"target":P}],
 * "latency":200,"jitter":20}`.
 */
export const PROXY_READY = "clnrm-chaos-proxy listening";

export const PROXY_SCRIPT = `"use strict";
const net = require("node:net");
const cfg = JSON.parse(process.env.CLNRM_CHAOS_PROXY);
const exit = () => process.exit(0);
process.on("SIGTERM", exit);
process.on("SIGINT", exit);
const delay = () => Math.max(0, cfg.latency + (cfg.jitter ? (Math.random() * 2 - 1) * cfg.jitter : 0));
let ready = 0;
for (const r of cfg.routes) {
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: r.target, allowHalfOpen: true });
    let last = 0;
    const later = (fn) => {
      const at = Math.max(Date.now() + delay(), last);
      last = at;
      setTimeout(fn, at - Date.now());
    };
    client.on("data", (b) => upstream.write(b));
    client.on("end", () => upstream.end());
    upstream.on("data", (b) => later(() => client.destroyed || client.write(b)));
    upstream.on("end", () => later(() => client.destroyed || client.end()));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => later(() => client.destroy()));
    client.on("close", () => upstream.destroy());
  });
  server.listen(r.listen, () => {
    if (++ready === cfg.routes.length) console.log("${PROXY_READY} " + cfg.routes.map((x) => x.listen + "->" + x.target).join(","));
  });
}
`;
