import { durationSchema, z } from "@clnrm/plugin-kit";

/** Real upstream images, pinned. Tests point the config at local images instead. */
export const DEFAULT_SIDECAR_IMAGE = "nicolaka/netshoot:v0.13";
export const DEFAULT_PROXY_IMAGE = "node:24.11.0-alpine3.22";

const serviceName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, "use a service name: letters, digits, '-' and '_'");
const port = z.number().int().min(1).max(65535);
const image = z.string().trim().min(1, "image must not be empty");

/** Network faults: flat keys, or the same keys under `chaos.network` (the spec's spelling). */
const networkFields = {
  packet_loss_percent: z.number().gt(0).max(100).optional().describe("Drop this percentage of packets, at random."),
  loss_direction: z.enum(["in", "out", "both"]).optional().describe("Which packets packet loss drops: received by the target (\"in\"), sent (\"out\"), or both."),
  latency_ms: z.number().int().min(1).max(600_000).optional().describe("Delay what the target sends (and, through the proxy, what it is sent) by this many ms."),
  jitter_ms: z.number().int().min(0).max(600_000).optional().describe("Random variation of the delay, ± ms."),
  bandwidth_kbps: z.number().int().min(8).optional().describe("Cap the target's outgoing bandwidth, in kbit/s."),
  block_ports: z.array(port).optional().describe("Block incoming TCP connections to these ports of the target."),
  block_action: z.enum(["drop", "reject"]).optional().describe("How blocked ports and partitions fail: silently (\"drop\", clients time out) or at once (\"reject\")."),
  partition_from: z.array(serviceName).optional().describe("Cut the target off from these services (both directions)."),
};
const NETWORK_DEFAULTS = { loss_direction: "in", jitter_ms: 0, block_ports: [] as number[], block_action: "drop", partition_from: [] as string[] } as const;

const cpuSchema = z.strictObject({ stress_percent: z.number().int().min(1).max(100).default(100), workers: z.number().int().min(0).max(256).default(0) });
const memorySchema = z.strictObject({ stress_mb: z.number().int().min(1) });
const ioSchema = z.strictObject({ workers: z.number().int().min(1).max(64).default(1) });

const baseSchema = z.strictObject({
  targets: z.array(serviceName).default([]).describe("Services to act on. Empty: every other non-chaos service of the test."),
  sidecar_image: image.default(DEFAULT_SIDECAR_IMAGE).describe("Image of the network sidecar: needs `iptables` and `tc` (iproute2)."),
  proxy_image: image.default(DEFAULT_PROXY_IMAGE).describe("Image of the latency proxy (proxy mode only): needs `node`."),
  stress_image: image.optional().describe("Image for stress-ng when a target has no stress-ng of its own (see `stress_mode`)."),
  interface: z.string().regex(/^[a-zA-Z0-9_.@-]+$/, "invalid interface name").default("eth0").describe("The target's network interface on the run network."),

  start_after: durationSchema.default(0).describe("Delay before the first fault, from the moment the chaos service starts (just before the steps)."),
  duration: durationSchema.optional().describe("How long each fault window lasts. Default: until teardown."),
  repeat: z.number().int().min(1).max(1000).default(1).describe("Number of fault windows (needs `duration` when above 1)."),
  interval: durationSchema.default(0).describe("Pause between the end of one window and the start of the next."),

  ...networkFields,
  mode: z.enum(["auto", "netem", "proxy"]).default("auto").describe("How to add latency: kernel netem, a TCP delay proxy, or netem when the kernel has it (\"auto\")."),
  ports: z.array(port).min(1).optional().describe("Ports the delay proxy covers. Default: the target's published ports, else the ports it listens on."),
  proxy_port_base: port.default(39100).describe("First port the delay proxy listens on (one per covered port)."),

  cpu: cpuSchema.optional().describe("CPU stress on the target (stress-ng): { stress_percent, workers } (the flat spelling of chaos.cpu)."),
  memory: memorySchema.optional().describe("Memory stress on the target: { stress_mb } (the flat spelling of chaos.memory)."),
  io: ioSchema.optional().describe("Disk I/O stress on the target: { workers } (the flat spelling of chaos.disk)."),
  stress_mode: z.enum(["auto", "exec", "sidecar"]).default("auto").describe("Where stress-ng runs: in the target (\"exec\", counted in its cgroup), a sidecar, or \"auto\"."),

  chaos: z
    .strictObject({
      network: z.strictObject(networkFields).optional(),
      cpu: cpuSchema.optional(),
      memory: memorySchema.optional(),
      disk: ioSchema.optional(),
    })
    .optional()
    .describe("The faults as the spec writes them: `chaos.network.latency_ms`, `chaos.network.packet_loss_percent` (and every other network key), `chaos.cpu.stress_percent`, `chaos.memory.stress_mb`, `chaos.disk.workers` (disk I/O stress; `io` in the flat spelling)."),

  pause: z.boolean().default(false).describe("Freeze the target for the window (docker pause / unpause)."),
  kill: z.boolean().default(false).describe("Kill the target (SIGKILL) at the start of the window."),
  restart: z.boolean().default(false).describe("With `kill`: restart the target at the end of the window (at once without `duration`)."),
});

/** Merges `chaos.*` into the flat keys; a key set in both spellings is an issue. */
function merge(c: z.output<typeof baseSchema>, ctx: z.RefinementCtx) {
  const { chaos, ...flat } = c;
  const out: Record<string, unknown> = { ...flat };
  const take = (nested: Record<string, unknown> | undefined, prefix: string, rename: Record<string, string> = {}) => {
    for (const [k, v] of Object.entries(nested ?? {})) {
      if (v === undefined) continue;
      const key = rename[k] ?? k;
      if (out[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `'${key}' and '${prefix}.${k}' are the same setting: keep '${prefix}.${k}'` });
      }
      out[key] = v;
    }
  };
  take(chaos?.network, "chaos.network");
  take(chaos && { cpu: chaos.cpu, memory: chaos.memory, disk: chaos.disk }, "chaos", { disk: "io" });
  for (const [k, v] of Object.entries(NETWORK_DEFAULTS)) if (out[k] === undefined) out[k] = v;
  return out as Omit<typeof flat, keyof typeof NETWORK_DEFAULTS> & {
    loss_direction: "in" | "out" | "both";
    jitter_ms: number;
    block_ports: number[];
    block_action: "drop" | "reject";
    partition_from: string[];
  };
}

export const configSchema = baseSchema
  .transform(merge)
  .superRefine((c, ctx) => {
    if (c.repeat > 1 && c.duration === undefined) {
      ctx.addIssue({ code: "custom", path: ["repeat"], message: "repeat above 1 needs a duration for each window" });
    }
    if (c.restart && !c.kill) ctx.addIssue({ code: "custom", path: ["restart"], message: "restart needs kill = true" });
    if (c.jitter_ms > 0 && c.latency_ms === undefined) ctx.addIssue({ code: "custom", path: ["jitter_ms"], message: "jitter_ms needs latency_ms" });
    if (c.latency_ms !== undefined && c.jitter_ms > c.latency_ms) ctx.addIssue({ code: "custom", path: ["jitter_ms"], message: "jitter_ms must not exceed latency_ms" });
    if (c.kill && (hasNetworkFault(c) || c.pause)) {
      ctx.addIssue({ code: "custom", path: ["kill"], message: "kill cannot be combined with network faults or pause in one chaos service (a killed target loses its network namespace)" });
    }
    if (!hasNetworkFault(c) && !hasStress(c) && !c.pause && !c.kill) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message:
          "no fault configured: set one of chaos.network.latency_ms, chaos.network.packet_loss_percent, chaos.network.bandwidth_kbps, chaos.network.block_ports, chaos.network.partition_from, chaos.cpu, chaos.memory, chaos.disk, pause, kill",
      });
    }
  });

export type ChaosConfig = z.output<typeof configSchema>;

export function hasNetworkFault(c: Pick<ChaosConfig, "packet_loss_percent" | "latency_ms" | "bandwidth_kbps" | "block_ports" | "partition_from">): boolean {
  return c.packet_loss_percent !== undefined || c.latency_ms !== undefined || c.bandwidth_kbps !== undefined || c.block_ports.length > 0 || c.partition_from.length > 0;
}

export function hasStress(c: Pick<ChaosConfig, "cpu" | "memory" | "io">): boolean {
  return c.cpu !== undefined || c.memory !== undefined || c.io !== undefined;
}
