// The floor: one already-running process doing a job's Engine API calls over the socket (create,
// start, the readiness probe, exec, remove) with no framework: node:http on /var/run/docker.sock,
// one keep-alive agent, nothing else. What no tool driving this engine can beat.
import { request } from "node:http";
import { Agent } from "node:http";

const socketPath = process.env.DOCKER_HOST?.startsWith("unix://") ? process.env.DOCKER_HOST.slice(7) : "/var/run/docker.sock";
const agent = new Agent({ keepAlive: true, socketPath });

/** One Engine API call; resolves with the parsed JSON body (or the raw buffer with `raw`). */
export function api(method, path, body, { raw = false } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { agent, socketPath, method, path: `/v1.41${path}`, headers: data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          if (res.statusCode >= 400) return reject(new Error(`${method} ${path}: ${res.statusCode} ${buf.toString().trim()}`));
          if (raw) return resolve(buf);
          resolve(buf.length ? JSON.parse(buf.toString()) : undefined);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** Docker's multiplexed stdout/stderr stream → stdout text. */
function stdoutOf(buf) {
  let out = "";
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    if (buf[i] === 1) out += buf.subarray(i + 8, i + 8 + len).toString();
    i += 8 + len;
  }
  return out;
}

/** Creates and starts a container; resolves with its id and published ports ({ "8000/tcp": hostPort }). */
export async function runContainer({ name, image, cmd, entrypoint, env = {}, ports = [], network, alias, binds = [], workdir }) {
  const { Id } = await api("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
    Image: image,
    ...(cmd ? { Cmd: cmd } : {}),
    ...(entrypoint ? { Entrypoint: entrypoint } : {}),
    ...(workdir ? { WorkingDir: workdir } : {}),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { "clnrm.bench": "1" },
    ExposedPorts: Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}])),
    HostConfig: {
      PortBindings: Object.fromEntries(ports.map((p) => [`${p}/tcp`, [{ HostIp: "127.0.0.1", HostPort: "" }]])),
      Binds: binds,
      ...(network ? { NetworkMode: network } : {}),
    },
    ...(network ? { NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: alias ? [alias] : [] } } } } : {}),
  });
  await api("POST", `/containers/${Id}/start`);
  if (!ports.length) return { id: Id, ports: {} };
  const info = await api("GET", `/containers/${Id}/json`);
  const bound = Object.fromEntries(ports.map((p) => [p, Number(info.NetworkSettings.Ports[`${p}/tcp`][0].HostPort)]));
  return { id: Id, ports: bound };
}

/** Runs a command in a container; resolves with { exitCode, stdout }. */
export async function exec(id, cmd) {
  const { Id } = await api("POST", `/containers/${id}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const out = await api("POST", `/exec/${Id}/start`, { Detach: false, Tty: false }, { raw: true });
  const { ExitCode } = await api("GET", `/exec/${Id}/json`);
  return { exitCode: ExitCode, stdout: stdoutOf(out) };
}

/** Polls GET url every `everyMs` until it answers 2xx. */
export async function pollHttp(url, everyMs = 10) {
  for (;;) {
    const ok = await fetch(url).then(
      async (r) => {
        await r.body?.cancel();
        return r.ok;
      },
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const remove = (id) => api("DELETE", `/containers/${id}?force=true&v=true`);
export const createNetwork = async (name) => (await api("POST", "/networks/create", { Name: name, Labels: { "clnrm.bench": "1" } })).Id;
export const removeNetwork = (id) => api("DELETE", `/networks/${id}`);

/** The quickstart's job: run alpine, exec `echo hello`, remove. */
export async function quickstartFloor() {
  const t0 = performance.now();
  const { id } = await runContainer({ name: `floor-${process.pid}-${Date.now()}`, image: "alpine:latest", cmd: ["sleep", "3600"] });
  try {
    const r = await exec(id, ["echo", "hello"]);
    if (r.stdout !== "hello\n") throw new Error(`unexpected exec output ${JSON.stringify(r.stdout)}`);
  } finally {
    await remove(id);
  }
  return performance.now() - t0;
}

/** The multi-service job (fixtures/multi-service): network, three containers at once, readiness, the e2e step, removal. */
export async function multiServiceFloor(frontendDir) {
  const t0 = performance.now();
  const run = `floor-${process.pid}-${Date.now()}`;
  const net = await createNetwork(run);
  const started = [];
  try {
    const [db, apiC, fe] = await Promise.all([
      runContainer({ name: `${run}-database`, image: "clnrm-test/surrealdb-standin:latest", entrypoint: ["/surreal"], cmd: ["start", "--log", "info", "--user", "root", "--bind", "0.0.0.0:8000", "memory"], env: { SURREAL_PASS: "root" }, ports: [8000], network: run, alias: "database" }),
      runContainer({ name: `${run}-api`, image: "my-api:latest", env: { DB_URL: "http://database:8000" }, ports: [8080], network: run, alias: "api" }),
      runContainer({ name: `${run}-frontend`, image: "clnrm-test/node:24", cmd: ["sleep", "infinity"], workdir: "/app", binds: [`${frontendDir}:/app:ro`], env: { API_URL: "http://api:8080", DB_URL: "http://database:8000", PATH: "/app/bin:/usr/local/bin:/usr/bin:/bin" }, network: run, alias: "frontend" }),
    ].map((p) => p.then((c) => (started.push(c.id), c))));
    await Promise.all([pollHttp(`http://127.0.0.1:${db.ports[8000]}/health`), pollHttp(`http://127.0.0.1:${apiC.ports[8080]}/`)]);
    const r = await exec(fe.id, ["npm", "run", "test:e2e"]);
    if (r.exitCode !== 0 || !r.stdout.includes("e2e ok")) throw new Error(`e2e step failed (${r.exitCode}): ${r.stdout}`);
  } finally {
    await Promise.all(started.map(remove));
    await removeNetwork(net);
  }
  return performance.now() - t0;
}
