// `weft proxy`: the sidecar. Reserves its ports, announces itself to the control plane over ADS,
// applies what it receives to the data plane, and serves the admin port.
import type { Server } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseFlags, parseHostPort, UsageError } from '../common/args.ts';
import { createLogger } from '../common/log.ts';
import { encodeProxyMetadata, type InboundPort, type OutboundTcpPort } from '../xds/node-metadata.ts';
import { fromStruct } from '../xds/struct.ts';
import { reservePort } from './listener/reserved-port.ts';
import { ProxyAdminServer } from './admin/admin-server.ts';
import { ProxyConfigState, type ConfigurableDataPlane } from './config-state.ts';
import type { SecretStore } from './tls/secret-store.ts';
import { registerXdsMetrics } from './telemetry/xds-metrics.ts';
import { XdsClient } from './xds-client/xds-client.ts';
import { xdsCredentials } from './xds-credentials.ts';
import { closeAccessLogWriters } from './telemetry/access-log/writer.ts';
import { TypeUrl } from '../xds/type-urls.ts';
import { releaseSharedPort, reserveSharedPort } from './workers/shared-ports.ts';
import type { WorkerPool } from './workers/worker-pool.ts';

export const usage = `Usage: weft proxy [flags]

Runs a Weft sidecar (or gateway): an Envoy xDS v3 client that carries its workload's traffic.

Flags:
  --xds-address HOST:PORT     control plane ADS address (default 127.0.0.1:15010)
  --namespace NS              the workload's namespace (default default)
  --workload-name NAME        the workload's name (default: --service, or "proxy")
  --service-account SA        the workload's service account (default default)
  --labels k=v,k=v            the workload's labels (e.g. app=reviews,version=v1)
  --address IP                the address other sidecars reach this workload on (default 127.0.0.1)
  --inbound SPORT:APPPORT[:PORT]
                              serve service port SPORT for the app listening on 127.0.0.1:APPPORT,
                              accepting inbound traffic on PORT (default: a free port); repeatable
  --outbound-port PORT        explicit outbound HTTP port for the app (0 = a free port; default 15001)
  --outbound-tcp SPORT[:PORT] an outbound TCP/TLS listener on 127.0.0.1:PORT for the TCP and TLS services
                              on service port SPORT (default PORT: a free one); repeatable
  --locality REGION[/ZONE[/SUBZONE]]
                              the workload's locality (default: from the topology.kubernetes.io/region and
                              topology.kubernetes.io/zone labels)
  --no-outbound               no outbound listener (a workload that only serves)
  --gateway                   run as an ingress/egress gateway: serve the Gateway resources whose selector
                              matches --labels (implies --no-outbound)
  --admin-address HOST:PORT   admin port: /ready /config_dump /stats/prometheus POST /drain (default 127.0.0.1:15000)
  --node-id ID                xDS node id (default: WORKLOAD.NAMESPACE-PID)
  --drain-timeout-ms N        on SIGTERM, wait this long for connections to finish (default 5000)
  --concurrency N             data-plane worker threads, each with its own event loop, all accepting on every
                              listener port (SO_REUSEPORT); the main thread keeps the xDS stream and the admin
                              port. Default 1: one thread, no workers. A worker that dies ends the proxy
                              (exit code 1) for its supervisor to restart
  --xds-root-cert FILE        trust bundle to verify the control plane's TLS certificate with
                              (default .weft/root-cert.pem when it exists)
  --plaintext-xds             connect to a control plane that serves ADS without TLS (--demo)
  --token-file FILE           the workload token (\`weft token create\`); or set WEFT_TOKEN. Its namespace
                              and service account are the proxy's unless --namespace/--service-account say so
  -h, --help                  show this help

When it has its first complete config it prints one JSON line on stdout:
{"ready":true,"adminPort":N,"outboundPort":N,"inbound":[{"servicePort":N,"port":N,"appPort":N}],
 "outboundTcp":[{"servicePort":N,"port":N}],"pid":N}.`;

function parseLabels(value: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels: expected k=v pairs, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

function parseInbound(values: string[]): { servicePort: number; appPort: number; port: number }[] {
  return values.map((v) => {
    const parts = v.split(':').map(Number);
    if ((parts.length !== 2 && parts.length !== 3) || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 65535)) {
      throw new UsageError(`--inbound: expected SERVICEPORT:APPPORT[:PORT], got ${JSON.stringify(v)}`);
    }
    return { servicePort: parts[0], appPort: parts[1], port: parts[2] ?? 0 };
  });
}

function parseOutboundTcp(values: string[]): OutboundTcpPort[] {
  return values.map((v) => {
    const parts = v.split(':').map(Number);
    if ((parts.length !== 1 && parts.length !== 2) || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 65535) || parts[0] === 0) {
      throw new UsageError(`--outbound-tcp: expected SERVICEPORT[:PORT], got ${JSON.stringify(v)}`);
    }
    return { servicePort: parts[0], port: parts[1] ?? 0 };
  });
}

function parseLocality(value: string | undefined): { region: string; zone: string; sub_zone: string } | undefined {
  if (value === undefined) return undefined;
  const parts = value.split('/');
  if (parts.length > 3 || parts[0] === '') throw new UsageError(`--locality: expected REGION[/ZONE[/SUBZONE]], got ${JSON.stringify(value)}`);
  return { region: parts[0], zone: parts[1] ?? '', sub_zone: parts[2] ?? '' };
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`--concurrency: expected a number of data-plane worker threads from 1 to 1024, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** What main drives: the config updates, drain and close, and the SDS secrets in force. */
type ProxyDataPlane = ConfigurableDataPlane & { readonly secrets: SecretStore; drain(): Promise<void>; close(): Promise<void> };

export async function runProxy(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    'xds-address': { type: 'string' },
    namespace: { type: 'string' },
    'workload-name': { type: 'string' },
    'service-account': { type: 'string' },
    labels: { type: 'string' },
    address: { type: 'string' },
    inbound: { type: 'string', multiple: true },
    'outbound-port': { type: 'string' },
    'outbound-tcp': { type: 'string', multiple: true },
    locality: { type: 'string' },
    'no-outbound': { type: 'boolean' },
    gateway: { type: 'boolean' },
    'admin-address': { type: 'string' },
    'node-id': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    'xds-root-cert': { type: 'string' },
    'plaintext-xds': { type: 'boolean' },
    'token-file': { type: 'string' },
    concurrency: { type: 'string' },
  }, usage);
  const concurrency = parseConcurrency(values.concurrency);
  // A listener port is held for this process alone until its listener config arrives; with workers,
  // only until every worker has bound it too (SO_REUSEPORT).
  const reserve = concurrency > 1 ? reserveSharedPort : (host: string, port: number) => reservePort(host, port, 'exclusive');
  const xdsAuth = await xdsCredentials({
    rootCertFile: values['xds-root-cert'], plaintext: values['plaintext-xds'] === true, tokenFile: values['token-file'], tokenEnv: process.env.WEFT_TOKEN,
  });
  const namespace = values.namespace ?? xdsAuth.token?.namespace ?? 'default';
  const serviceAccount = values['service-account'] ?? xdsAuth.token?.serviceAccount ?? 'default';
  const labels = parseLabels(values.labels);
  const workloadName = values['workload-name'] ?? labels.app ?? 'proxy';
  const nodeId = values['node-id'] ?? `${workloadName}.${namespace}-${process.pid}`;
  const address = values.address ?? '127.0.0.1';
  const admin = parseHostPort(values['admin-address'] ?? '127.0.0.1:15000', '--admin-address');
  const log = createLogger({ fields: { component: 'proxy', proxy: nodeId } });

  // Reserve every port first, so the control plane can be told where this sidecar listens.
  const reserved = new Map<number, Server>();
  const inbound: InboundPort[] = [];
  for (const spec of parseInbound(values.inbound ?? [])) {
    const server = await reserve(address, spec.port);
    const port = (server.address() as { port: number }).port;
    reserved.set(port, server);
    inbound.push({ servicePort: spec.servicePort, appPort: spec.appPort, port });
  }
  let outboundPort: number | undefined;
  const gateway = values.gateway === true;
  if (!values['no-outbound'] && !gateway) {
    const server = await reserve('127.0.0.1', Number(values['outbound-port'] ?? 15001));
    outboundPort = (server.address() as { port: number }).port;
    reserved.set(outboundPort, server);
  }

  const outboundTcp: OutboundTcpPort[] = [];
  for (const spec of parseOutboundTcp(values['outbound-tcp'] ?? [])) {
    const server = await reserve('127.0.0.1', spec.port);
    const port = (server.address() as { port: number }).port;
    reserved.set(port, server);
    outboundTcp.push({ servicePort: spec.servicePort, port });
  }
  const locality = parseLocality(values.locality);

  const nodeMetadata = encodeProxyMetadata({
    namespace, workloadName, labels, serviceAccount, address, outboundPort, inbound, outboundTcp,
    ...(gateway ? { gateway } : {}),
  });
  const node = { id: nodeId, metadata: fromStruct(nodeMetadata) };
  const drainTimeout = Number(values['drain-timeout-ms'] ?? 5000);
  // The main thread's registry: the data plane's metrics too with one thread; with workers, the xDS and
  // process metrics only (the workers' are summed in at scrape time).
  let registry: Registry;
  let dataPlane: ProxyDataPlane;
  let workers: WorkerPool | null = null;
  if (concurrency === 1) {
    const [{ DataPlane }, { ProxyStats }] = await Promise.all([import('./data-plane.ts'), import('./telemetry/stats.ts')]);
    const stats = new ProxyStats();
    registry = stats.registry;
    dataPlane = new DataPlane({ logger: log.child({ module: 'data-plane' }), stats, reservedListeners: reserved, node, drainTimeoutMs: drainTimeout });
  } else {
    const { WorkerPool } = await import('./workers/worker-pool.ts');
    registry = new Registry();
    workers = new WorkerPool({
      concurrency, logger: log.child({ module: 'workers' }), nodeId, nodeMetadata: node.metadata,
      reserved: [...reserved].map(([port, server]) => ({ host: (server.address() as { address: string }).address, port })),
      drainTimeoutMs: drainTimeout,
      onFatal: () => process.exit(1),
    });
    await workers.start();
    await Promise.all([...reserved.values()].map(releaseSharedPort));
    reserved.clear();
    dataPlane = workers;
    log.info('data-plane workers started', { concurrency });
  }
  const config = new ProxyConfigState(dataPlane);
  const xds: XdsClient = new XdsClient({
    address: values['xds-address'] ?? '127.0.0.1:15010',
    node: {
      id: nodeId,
      cluster: `${workloadName}.${namespace}`,
      metadata: nodeMetadata,
      ...(locality ? { locality } : {}),
    },
    apply: (typeUrl, resources): Promise<void> => config.apply(typeUrl, resources, xds),
    logger: log.child({ module: 'xds' }),
    credentials: xdsAuth.credentials,
    ...(xdsAuth.callMetadata ? { callMetadata: xdsAuth.callMetadata } : {}),
  });
  registerXdsMetrics(registry, xds);
  // Node.js process metrics (process_*, nodejs_*): what Istio's dashboards read from go_* and container_*.
  collectDefaultMetrics({ register: registry });

  let draining = false;
  const drain = () => {
    if (!draining) {
      draining = true;
      log.info('draining');
    }
    return dataPlane.drain().catch((err: Error) => log.error('draining failed', { error: err.message }));
  };
  const adminServer = new ProxyAdminServer({
    ready: () => (draining ? { ready: false, reason: 'draining' } : config.ready()),
    configDump: () => config.dump(xds),
    serverInfo: async () => ({
      node: nodeId, state: draining ? 'DRAINING' : config.ready().ready ? 'LIVE' : 'INITIALIZING', xds: xds.stats, uptimeSeconds: Math.round(process.uptime()),
      concurrency, ...(workers !== null ? { workers: await workers.info() } : {}),
    }),
    drain: async () => { void drain(); },
    registry,
    ...(workers !== null ? { scrape: () => workers.registry(registry) } : {}),
  });
  const adminPort = await adminServer.listen(admin.port, admin.host);
  let announced = false;
  xds.onAccepted = (typeUrl) => {
    // The mesh's trust bundle also verifies the control plane from the next connection on.
    const roots = typeUrl === TypeUrl.Secret ? dataPlane.secrets.get('ROOTCA')?.validation?.trustedCa : undefined;
    if (roots !== undefined) xdsAuth.trust?.update(roots);
    if (announced || !config.ready().ready) return;
    announced = true;
    log.info('proxy ready', { adminPort, outboundPort, inbound, outboundTcp });
    process.stdout.write(JSON.stringify({ ready: true, adminPort, outboundPort, inbound, outboundTcp, pid: process.pid }) + '\n');
  };
  xds.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await Promise.race([drain(), new Promise((r) => setTimeout(r, drainTimeout).unref())]);
    xds.stop();
    await dataPlane.close();
    // Access log lines of the last exchanges are flushed before the process goes.
    await closeAccessLogWriters();
    await adminServer.close();
    process.exit(0);
  };
  // A failure while stopping (a worker already gone) still ends the process, with an error code.
  const stopOrFail = (signal: string): void => {
    stop(signal).catch((err: Error) => {
      log.error('shutdown failed', { error: err.message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stopOrFail('SIGTERM'));
  process.on('SIGINT', () => stopOrFail('SIGINT'));
}
