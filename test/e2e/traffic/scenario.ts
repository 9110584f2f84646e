// The traffic-scenario harness: a control plane, workloads (test/e2e/traffic/backend.ts behind a
// sidecar each) and client sidecars, all real processes on 127.0.0.1; each scenario applies an Istio
// YAML file from this folder unchanged and observes real traffic.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Mesh } from '../../harness/mesh.ts';
import type { ManagedProcess } from '../../harness/process.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const backendScript = here('./backend.ts');

export interface Workload {
  app: ManagedProcess<{ port: number }>;
  proxy: ManagedProcess<{ adminPort: number; inbound: { servicePort: number; port: number; appPort: number }[] }>;
  /** The sidecar's inbound port (what other sidecars dial). */
  port: number;
  /** Changes the backend's behaviour (failStatus, failEvery, delayMs), straight to the app. */
  control(behaviour: { failStatus?: number; failEvery?: number; delayMs?: number }): Promise<void>;
  /** Requests the backend has answered (straight to the app). */
  served(): Promise<number>;
}

export interface Client {
  proxy: ManagedProcess<{ adminPort: number; outboundPort?: number; outboundTcp?: { servicePort: number; port: number }[] }>;
  outboundPort: number;
  /** The local port of the outbound TCP/TLS listener for a service port. */
  tcpPort(servicePort: number): number;
}

export interface WorkloadOptions {
  service: string;
  version?: string;
  /** The service port it serves (default 8080). */
  servicePort?: number;
  mode?: 'http' | 'grpc' | 'tcp';
  appArgs?: string[];
  labels?: Record<string, string>;
  locality?: string;
  namespace?: string;
  /** Its identity: spiffe://cluster.local/ns/<namespace>/sa/<serviceAccount>. */
  serviceAccount?: string;
}

export interface ClientOptions {
  name?: string;
  labels?: Record<string, string>;
  outboundTcp?: number[];
  locality?: string;
  namespace?: string;
  serviceAccount?: string;
}

export class Scenario {
  readonly mesh: Mesh;
  private seq = 0;

  private constructor(mesh: Mesh) {
    this.mesh = mesh;
  }

  static async start(options: { controlPlaneArgs?: string[] } = {}): Promise<Scenario> {
    return new Scenario(await Mesh.start(options));
  }

  /** An Istio YAML file of this folder, as written. */
  static yaml(name: string): string {
    return readFileSync(here(`./${name}`), 'utf8');
  }

  async applyFile(name: string): Promise<string> {
    return this.mesh.apply(Scenario.yaml(name));
  }

  async workload(o: WorkloadOptions): Promise<Workload> {
    const version = o.version ?? 'v1';
    const name = `${o.service}-${version}-${++this.seq}`;
    const mode = o.mode ?? 'http';
    const args = ['--name', o.service, '--version', version, ...(mode === 'grpc' ? ['--grpc'] : mode === 'tcp' ? ['--tcp'] : []), ...(o.appArgs ?? [])];
    const app = await this.mesh.startApp(`app ${name}`, backendScript, args);
    const proxy = await this.mesh.startProxy({
      name,
      labels: { app: o.service, version, ...o.labels },
      inbound: [{ servicePort: o.servicePort ?? 8080, appPort: app.ready.port }],
      outbound: false,
      extraArgs: o.locality ? ['--locality', o.locality] : [],
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.serviceAccount ? { serviceAccount: o.serviceAccount } : {}),
    });
    return {
      app,
      proxy,
      port: proxy.ready.inbound[0].port,
      control: async (behaviour) => {
        const r = await httpCall(app.ready.port, '/_control', { host: 'backend' }, 'POST', JSON.stringify(behaviour));
        if (r.status !== 200) throw new Error(`control ${name}: ${r.status} ${r.body}`);
      },
      served: async () => (await httpCall(app.ready.port, '/_stats', { host: 'backend' })).json.served as number,
    };
  }

  async client(o: ClientOptions = {}): Promise<Client> {
    const name = o.name ?? `client-${++this.seq}`;
    const extraArgs: string[] = [];
    for (const p of o.outboundTcp ?? []) extraArgs.push('--outbound-tcp', `${p}:0`);
    if (o.locality) extraArgs.push('--locality', o.locality);
    const proxy = await this.mesh.startProxy({
      name, labels: { app: name, ...o.labels }, extraArgs,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.serviceAccount ? { serviceAccount: o.serviceAccount } : {}),
    }) as Client['proxy'];
    return {
      proxy,
      outboundPort: proxy.ready.outboundPort!,
      tcpPort: (servicePort) => {
        const found = proxy.ready.outboundTcp?.find((t) => t.servicePort === servicePort);
        if (!found) throw new Error(`${name} has no outbound TCP listener for service port ${servicePort}`);
        return found.port;
      },
    };
  }

  stop(): Promise<void> {
    return this.mesh.stop();
  }
}

export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string; json: any }

/** One HTTP/1.1 request to a port on 127.0.0.1 (a sidecar's outbound port, with the service as Host). */
export function httpCall(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `count` requests, `concurrency` at a time; returns every reply in completion order. */
export async function requests(count: number, concurrency: number, one: (i: number) => Promise<Reply>): Promise<Reply[]> {
  const out: Reply[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) out.push(await one(next++));
  }));
  return out;
}

/** Replies counted by `x-served-by` (backend identity), or by status when a reply has none. */
export function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const key = typeof r.headers['x-served-by'] === 'string' ? r.headers['x-served-by'] : `status ${r.status}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The sum of a Prometheus metric's samples on a proxy's admin port whose labels mention `cluster`. */
export async function metric(adminPort: number, name: string, cluster: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') && line.includes(cluster)) sum += Number(line.split(' ').pop());
  return sum;
}
