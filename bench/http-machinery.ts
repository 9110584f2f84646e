// Chooses the HTTP machinery of the proxy by measurement (DESIGN.md habit 8: one command, parameters in
// env vars, baseline measured in the same run).
//
//   npx node bench/http-machinery.ts
//
// A trivial upstream (node:http, 100-byte body) runs in its own process; the load generator runs in
// another (undici, pipelining 1, a closed loop of BENCH_CONNECTIONS keep-alive connections). Each
// variant gets BENCH_WARMUP_S of warm-up and BENCH_DURATION_S of measurement:
//   direct            load → upstream (the ceiling)
//   http+agent        node:http server + http.request with a keep-alive http.Agent, piped
//   http+undici-pool  node:http server + undici Pool.dispatch with a raw handler
//   weft-data-plane   the real DataPlane with a hand-written Listener/Route/Cluster/CLA
// Every variant runs BENCH_ROUNDS times, interleaved, and the best round is reported. On a machine
// with 2+ CPUs (and taskset), the proxy is pinned to CPU 1 and the load generator and upstream to CPU 0,
// so that the proxy is what is measured. About 45 s with the defaults.
// Env: BENCH_CONNECTIONS (50), BENCH_DURATION_S (4), BENCH_WARMUP_S (1), BENCH_ROUNDS (2),
//      BENCH_BODY_BYTES (100), BENCH_VARIANTS (comma list, default all), BENCH_PIN (0 to disable pinning).
// Figures measured and the choice they led to: src/proxy/upstream/endpoint-pool.ts.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';

const self = fileURLToPath(import.meta.url);
const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

// ---------------------------------------------------------------- child roles
async function runUpstream(): Promise<void> {
  const body = Buffer.alloc(env('BENCH_BODY_BYTES', 100), 'x');
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send!({ port: (server.address() as net.AddressInfo).port });
  process.once('disconnect', () => process.exit(0));
}

/** Closed loop: each of `connections` workers sends its next request when the previous one completes. */
async function runLoad(): Promise<void> {
  const [url, connections, warmupMs, durationMs, host] = [
    process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]), process.argv[7],
  ];
  const pool = new Pool(url, { connections, pipelining: 1 });
  const options: Dispatcher.DispatchOptions = { method: 'GET', path: '/bench', headers: { host } };
  let measuring = false;
  let stopping = false;
  let ok = 0;
  let errors = 0;
  let inFlight = 0;
  let done: () => void = () => {};
  const next = (): void => {
    if (stopping) {
      if (--inFlight === 0) done();
      return;
    }
    pool.dispatch(options, handler);
  };
  let status = 0;
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onHeaders(code) { status = code; return true; },
    onData() { return true; },
    onComplete() {
      if (measuring) { if (status === 200) ok++; else errors++; }
      next();
    },
    onError() { if (measuring) errors++; next(); },
  };
  const finished = new Promise<void>((resolve) => { done = resolve; });
  for (let i = 0; i < connections; i++) { inFlight++; pool.dispatch(options, handler); }
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const seconds = (performance.now() - start) / 1000;
  stopping = true;
  await finished;
  await pool.close();
  process.send!({ ok, errors, seconds });
}

// ---------------------------------------------------------------- proxies under test
type Proxy = { port: number; close(): Promise<void> };

async function listen(server: http.Server): Promise<number> {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

async function httpAgentProxy(upstreamPort: number): Promise<Proxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256 });
  const server = http.createServer((req, res) => {
    const upstream = http.request({
      host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent,
    }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => { if (!res.headersSent) { res.statusCode = 503; res.end(); } else res.destroy(); });
    req.pipe(upstream);
  });
  const port = await listen(server);
  return { port, close: async () => { await closeServer(server); agent.destroy(); } };
}

/** The undici handler that a minimal proxy would write: streams the response with backpressure. */
class PoolProxyHandler implements Dispatcher.DispatchHandler {
  res: http.ServerResponse;
  resume: (() => void) | null = null;
  constructor(res: http.ServerResponse) { this.res = res; }
  onConnect(): void {}
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    const headers: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) headers.push(rawHeaders[i].toString('latin1'), rawHeaders[i + 1].toString('latin1'));
    this.res.writeHead(statusCode, headers);
    this.resume = resume;
    return true;
  }
  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume!);
    return false;
  }
  onComplete(): void { this.res.end(); }
  onError(): void { if (!this.res.headersSent) { this.res.statusCode = 503; this.res.end(); } else this.res.destroy(); }
}

async function undiciPoolProxy(upstreamPort: number): Promise<Proxy> {
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 1024, pipelining: 1 });
  const server = http.createServer((req, res) => {
    const headers: string[] = [];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name !== 'connection' && name !== 'keep-alive' && name !== 'transfer-encoding') headers.push(name, raw[i + 1]);
    }
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool.dispatch({ method: req.method as Dispatcher.HttpMethod, path: req.url!, headers, body: hasBody ? req : null },
      new PoolProxyHandler(res));
  });
  const port = await listen(server);
  return { port, close: async () => { await closeServer(server); await pool.close(); } };
}

async function dataPlaneProxy(upstreamPort: number): Promise<Proxy> {
  // Imported here so that the other variants run without loading the proxy.
  const { DataPlane } = await import('../src/proxy/data-plane.ts');
  const { ProxyStats } = await import('../src/proxy/telemetry/stats.ts');
  const { silentLogger } = await import('../src/common/log.ts');
  const { TypeUrl } = await import('../src/xds/type-urls.ts');
  const dataPlane = new DataPlane({ logger: silentLogger, stats: new ProxyStats() });
  const cluster = 'outbound|9080||bench.default.svc.cluster.local';
  dataPlane.updateClusters([{ name: cluster, type: 'EDS', connect_timeout: { seconds: '1' }, eds_cluster_config: { eds_config: { ads: {} } } }]);
  dataPlane.updateEndpoints([{
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } } } }] }],
  }]);
  dataPlane.updateRoutes([{
    name: '9080',
    virtual_hosts: [{ name: 'bench', domains: ['bench', 'bench:9080'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }],
  }]);
  await dataPlane.updateListeners([{
    name: 'outbound_127.0.0.1_0',
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': TypeUrl.HttpConnectionManager,
        stat_prefix: 'outbound_0.0.0.0_9080',
        rds: { route_config_name: '9080', config_source: { ads: {} } },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': TypeUrl.Router } }],
      },
    }] }],
  }]);
  const port = dataPlane.listenerAddresses()[0].port;
  return { port, close: () => dataPlane.close() };
}

// ---------------------------------------------------------------- driver
const variants: Record<string, ((upstreamPort: number) => Promise<Proxy>) | null> = {
  'direct': null,
  'http+agent': httpAgentProxy,
  'http+undici-pool': undiciPoolProxy,
  'weft-data-plane': dataPlaneProxy,
};

/** A child process running this file in another role, pinned to `cpus` when pinning is on. */
function child(role: string[], cpus: string | null): ChildProcess {
  const stdio: ('ignore' | 'inherit' | 'ipc')[] = ['ignore', 'inherit', 'inherit', 'ipc'];
  if (cpus === null) return fork(self, role, { stdio });
  return spawn('taskset', ['-c', cpus, process.execPath, self, ...role], { stdio });
}

async function message<T>(process: ChildProcess): Promise<T> {
  const [value] = await Promise.race([
    once(process, 'message'),
    once(process, 'exit').then(([code]) => { throw new Error(`child exited with ${code} before reporting`); }),
  ]) as [T];
  return value;
}

async function runProxy(): Promise<void> {
  const make = variants[process.argv[3]]!;
  const proxy = await make(Number(process.argv[4]));
  process.send!({ port: proxy.port });
  process.once('disconnect', () => { void proxy.close().then(() => process.exit(0)); });
}

async function main(): Promise<void> {
  const connections = env('BENCH_CONNECTIONS', 50);
  const durationMs = env('BENCH_DURATION_S', 4) * 1000;
  const warmupMs = env('BENCH_WARMUP_S', 1) * 1000;
  const rounds = env('BENCH_ROUNDS', 2);
  const pin = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
  const selected = (process.env.BENCH_VARIANTS ?? Object.keys(variants).join(',')).split(',').filter(Boolean);
  for (const name of selected) {
    if (!(name in variants)) throw new Error(`unknown variant ${name}; known: ${Object.keys(variants).join(', ')}`);
  }
  // Pinned: the proxy alone on CPU 1, the load generator and the upstream share CPU 0. Unpinned on a
  // small machine, the scheduler's placement of three busy processes dominates the differences.
  const [loadCpus, proxyCpus] = pin ? ['0', '1'] : [null, null];
  console.log(`node ${process.version}, ${connections} connections, ${rounds} round(s) of ${warmupMs / 1000}s warm-up + ` +
    `${durationMs / 1000}s per variant, ${env('BENCH_BODY_BYTES', 100)}-byte responses, ` +
    (pin ? 'proxy pinned to CPU 1, load and upstream to CPU 0' : 'unpinned'));

  const upstream = child(['upstream'], loadCpus);
  const results = new Map<string, number[]>(selected.map((name) => [name, []]));
  const errors = new Map<string, number>(selected.map((name) => [name, 0]));
  try {
    const { port: upstreamPort } = await message<{ port: number }>(upstream);
    for (let round = 0; round < rounds; round++) {
      for (const name of selected) {
        const proxy = variants[name] ? child(['proxy', name, String(upstreamPort)], proxyCpus) : null;
        try {
          const port = proxy ? (await message<{ port: number }>(proxy)).port : upstreamPort;
          const load = child(['load', `http://127.0.0.1:${port}`, String(connections), String(warmupMs), String(durationMs), 'bench:9080'], loadCpus);
          const result = await message<{ ok: number; errors: number; seconds: number }>(load);
          results.get(name)!.push(result.ok / result.seconds);
          errors.set(name, errors.get(name)! + result.errors);
        } finally {
          if (proxy) { proxy.disconnect(); await once(proxy, 'exit'); }
        }
      }
    }
  } finally {
    upstream.kill();
  }
  const best = (name: string) => Math.round(Math.max(...results.get(name)!));
  const direct = results.has('direct') ? best('direct') : 0;
  console.table(selected.map((name) => ({
    variant: name,
    'req/s (best)': best(name),
    'req/s (each round)': results.get(name)!.map(Math.round).join(' / '),
    errors: errors.get(name),
    'vs direct': direct ? `${Math.round((100 * best(name)) / direct)}%` : '-',
  })));
}

const role = process.argv[2];
if (role === 'upstream') await runUpstream();
else if (role === 'load') await runLoad();
else if (role === 'proxy') await runProxy();
else await main();
