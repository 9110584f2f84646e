// `weft control-plane`: the store, the registry, the generator and the ADS server in one process.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFlags, parseHostPort, parseInteger, UsageError } from '../common/args.ts';
import { createLogger } from '../common/log.ts';
import { AdminServer } from './admin/admin-server.ts';
import { MeshController } from './controller.ts';
import { loadMeshConfig } from './mesh-config.ts';
import { proxyAuthenticator, startSecurity } from './security.ts';
import { XdsServerIdentity } from './xds-server-identity.ts';
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
  --mesh-config FILE        Istio MeshConfig YAML (trustDomain, rootNamespace, extensionProviders,
                            pathNormalization, ...)
  --trust-domain DOMAIN     SPIFFE trust domain (default: the mesh config's, else cluster.local)

Security:
  --ca-cert FILE --ca-key FILE [--ca-chain FILE]
                            sign with this CA (an intermediate under your organisation's root; the chain
                            up to the root) instead of a root the control plane creates in its store
  --ca-key-algorithm ALG    key algorithm of a created root and of workload keys: EC-P256 (default),
                            RSA-2048, RSA-3072, RSA-4096
  --root-cert-ttl DURATION  lifetime of a created root (default 87600h, 10 years)
  --workload-cert-ttl DURATION
                            lifetime of workload certificates (default 24h; rotated at about half life)
  --require-tokens          refuse xDS and certificates to proxies without a valid token (the default)
  --no-require-tokens       accept proxies without a token (they are who their metadata says)
  --plaintext-xds           serve ADS without TLS (by default ADS is TLS with a certificate of the CA)
  --xds-san NAME            an extra DNS name or IP address for the xDS server certificate; repeatable
  --demo                    a local demo: --plaintext-xds and --no-require-tokens
  -h, --help                show this help

The trust bundle is written to DATA-DIR/root-cert.pem (also GET /ca/root on the admin API); proxies
verify the xDS server with it (weft proxy --xds-root-cert).

On start it prints one JSON line on stdout: {"ready":true,"xdsPort":N,"adminPort":N,"pid":N}.`;

export async function runControlPlane(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    'xds-address': { type: 'string' },
    'admin-address': { type: 'string' },
    'debounce-ms': { type: 'string' },
    'registration-grace-ms': { type: 'string' },
    'domain-suffix': { type: 'string' },
    'mesh-config': { type: 'string' },
    'trust-domain': { type: 'string' },
    'ca-cert': { type: 'string' },
    'ca-key': { type: 'string' },
    'ca-chain': { type: 'string' },
    'ca-key-algorithm': { type: 'string' },
    'root-cert-ttl': { type: 'string' },
    'workload-cert-ttl': { type: 'string' },
    'require-tokens': { type: 'boolean' },
    'no-require-tokens': { type: 'boolean' },
    'plaintext-xds': { type: 'boolean' },
    'xds-san': { type: 'string', multiple: true },
    demo: { type: 'boolean' },
  }, usage);
  const log = createLogger({ fields: { component: 'control-plane' } });
  const xds = parseHostPort(values['xds-address'] ?? '127.0.0.1:15010', '--xds-address');
  const admin = parseHostPort(values['admin-address'] ?? '127.0.0.1:15014', '--admin-address');
  const dataDir = values['data-dir'] ?? './.weft';
  const config = await loadMeshConfig(values['mesh-config'], log);
  config.domainSuffix = values['domain-suffix'] ?? config.domainSuffix;
  config.trustDomain = values['trust-domain'] ?? config.trustDomain;
  if (values['require-tokens'] && values['no-require-tokens']) throw new UsageError('--require-tokens and --no-require-tokens contradict each other');
  const requireTokens = values['require-tokens'] ?? !(values['no-require-tokens'] || values.demo);
  const plaintextXds = Boolean(values['plaintext-xds'] || values.demo);

  const store = await openEmbeddedStore({ dataDir, logger: log.child({ module: 'store' }) });
  const security = await startSecurity(store, config.trustDomain, values, log);
  const cache = new SnapshotCache();
  const controller = new MeshController({
    store, cache, config, logger: log.child({ module: 'controller' }),
    debounceMs: parseInteger(values['debounce-ms'], '--debounce-ms', 100),
    registrationGraceMs: parseInteger(values['registration-grace-ms'], '--registration-grace-ms', 30_000),
    secrets: security.secrets,
  });
  const ads = new AdsServer({
    cache,
    logger: log.child({ module: 'ads' }),
    callbacks: {
      onProxyConnected: (id, node, peer, identity) => controller.proxyConnected(id, node, peerAddress(peer), identity),
      onProxyDisconnected: (id, node) => controller.proxyDisconnected(id, node),
    },
    authenticate: proxyAuthenticator(security.tokens, requireTokens),
  });
  const adminServer = new AdminServer({
    store, ads, controller, logger: log.child({ module: 'admin' }), security: {
      ca: security.ca,
      tokens: security.tokens,
      revoked: (tokenId) => ads.endStreamsOfToken(tokenId, 'the token was revoked'),
    },
  });
  const writeBundle = () => writeFile(join(dataDir, 'root-cert.pem'), security.ca.trustBundlePem()).catch((err: unknown) => {
    log.warn('cannot write the trust bundle', { error: String(err) });
  });
  await writeBundle();
  security.ca.onChange(() => void writeBundle());
  const serverIdentity = plaintextXds ? undefined : await XdsServerIdentity.start(security.ca, xds.host, values['xds-san'] ?? [], log.child({ module: 'xds-tls' }));
  const xdsPort = await ads.listen(`${xds.host.includes(':') ? `[${xds.host}]` : xds.host}:${xds.port}`, serverIdentity?.credentials());
  const adminPort = await adminServer.listen(admin.port, admin.host);
  log.info('control plane ready', {
    xdsPort, adminPort, revision: store.revision, trustDomain: config.trustDomain, xdsTls: !plaintextXds, requireTokens,
  });
  process.stdout.write(JSON.stringify({ ready: true, xdsPort, adminPort, pid: process.pid }) + '\n');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    controller.close();
    serverIdentity?.close();
    security.close();
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
