// `weft control-plane`: the store, the registry, the generator and the ADS server in one process.
import { parseFlags, parseHostPort, parseInteger } from '../common/args.ts';
import { createLogger } from '../common/log.ts';
import { AdminServer } from './admin/admin-server.ts';
import { MeshController } from './controller.ts';
import { defaultMeshConfig } from './registry/model.ts';
import { AdsServer } from './server/ads-server.ts';
import { SnapshotCache } from './server/cache.ts';
import { openEmbeddedStore } from './store/index.ts';

export const usage = `Usage: weft control-plane [flags]

Runs the Weft control plane: stores mesh configuration (Istio resources), keeps the service
registry and serves Envoy xDS v3 (ADS over gRPC) to sidecars.

Flags:
  --data-dir DIR            where the embedded store keeps its state (default ./.weft)
  --xds-address HOST:PORT   ADS gRPC address (default 127.0.0.1:15010)
  --admin-address HOST:PORT HTTP admin API for the CLI and dashboard (default 127.0.0.1:15014)
  --debounce-ms N           wait this long after a change before pushing (default 100)
  --registration-grace-ms N keep a disconnected proxy's endpoints this long (default 30000)
  --domain-suffix SUFFIX    DNS suffix for short host names (default cluster.local)
  -h, --help                show this help

On start it prints one JSON line on stdout: {"ready":true,"xdsPort":N,"adminPort":N,"pid":N}.`;

export async function runControlPlane(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    'xds-address': { type: 'string' },
    'admin-address': { type: 'string' },
    'debounce-ms': { type: 'string' },
    'registration-grace-ms': { type: 'string' },
    'domain-suffix': { type: 'string' },
  }, usage);
  const log = createLogger({ fields: { component: 'control-plane' } });
  const xds = parseHostPort(values['xds-address'] ?? '127.0.0.1:15010', '--xds-address');
  const admin = parseHostPort(values['admin-address'] ?? '127.0.0.1:15014', '--admin-address');
  const config = { ...defaultMeshConfig, domainSuffix: values['domain-suffix'] ?? defaultMeshConfig.domainSuffix };

  const store = await openEmbeddedStore({ dataDir: values['data-dir'] ?? './.weft', logger: log.child({ module: 'store' }) });
  const cache = new SnapshotCache();
  const controller = new MeshController({
    store, cache, config, logger: log.child({ module: 'controller' }),
    debounceMs: parseInteger(values['debounce-ms'], '--debounce-ms', 100),
    registrationGraceMs: parseInteger(values['registration-grace-ms'], '--registration-grace-ms', 30_000),
  });
  const ads = new AdsServer({
    cache,
    logger: log.child({ module: 'ads' }),
    callbacks: {
      onProxyConnected: (id, node, peer) => controller.proxyConnected(id, node, peerAddress(peer)),
      onProxyDisconnected: (id, node) => controller.proxyDisconnected(id, node),
    },
  });
  const adminServer = new AdminServer({ store, ads, controller, logger: log.child({ module: 'admin' }) });
  const xdsPort = await ads.listen(`${xds.host.includes(':') ? `[${xds.host}]` : xds.host}:${xds.port}`);
  const adminPort = await adminServer.listen(admin.port, admin.host);
  log.info('control plane ready', { xdsPort, adminPort, revision: store.revision });
  process.stdout.write(JSON.stringify({ ready: true, xdsPort, adminPort, pid: process.pid }) + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    controller.close();
    await adminServer.close();
    await ads.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

function peerAddress(peer: string): string {
  const m = /^(?:ipv4:|ipv6:)?\[?([^\]]+?)\]?:\d+$/.exec(peer);
  return m ? m[1] : '127.0.0.1';
}
