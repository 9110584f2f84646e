// SDS over the ADS stream, end to end in the proxy (XdsClient + ProxyConfigState + DataPlane against a
// fake control plane): the proxy subscribes to the secrets its accepted clusters and listeners name,
// is not ready until they arrived, shows them in the config dump with private keys redacted, merges
// partial state-of-the-world responses, and NACKs a malformed secret keeping the one in force. Also
// the ADS channel's credentials and the metadata (a bearer token) the stream is opened with.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { XdsClient, type XdsClientOptions } from '../../../src/proxy/xds-client/xds-client.ts';
import { ProxyConfigState } from '../../../src/proxy/config-state.ts';
import { DataPlane } from '../../../src/proxy/data-plane.ts';
import { ProxyStats } from '../../../src/proxy/telemetry/stats.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import { toStruct } from '../../../src/xds/struct.ts';
import { FakeAds } from './fake-ads.ts';
import { chainsListener, filterChain } from '../support/listener-resources.ts';
import { httpConnectionManager, routeConfig, staticCluster } from '../support/resources.ts';
import { certificateSecret, rootSecret, sdsDownstreamTls, sdsUpstreamTls } from '../support/sds-resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from '../support/tls-certs.ts';
import { waitFor } from '../support/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
let ca: TestCertificateAuthority;
let workload: TestCertificate;
let inbound: TestCertificate;

before(async () => {
  ca = await makeCertificateAuthority();
  workload = await ca.issue('workload', ['URI:spiffe://cluster.local/ns/default/sa/a'], true);
  inbound = await ca.issue('inbound', ['URI:spiffe://cluster.local/ns/default/sa/a'], true);
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await ca?.remove();
});

async function setup(extra: Partial<XdsClientOptions> = {}, ads = new FakeAds()) {
  if (ads.port === 0) await ads.start();
  const dataPlane = new DataPlane({ logger: silentLogger, stats: new ProxyStats(), drainTimeoutMs: 100 });
  const state = new ProxyConfigState(dataPlane);
  const client: XdsClient = new XdsClient({
    address: `127.0.0.1:${ads.port}`,
    node: { id: 'sds-node', cluster: 'c', metadata: toStruct({}) },
    apply: (t, r) => state.apply(t, r, client),
    logger: silentLogger,
    ...extra,
  });
  client.start();
  cleanups.push(() => client.stop(), () => ads.stop(), () => dataPlane.close());
  return { ads, client, state, dataPlane };
}

const cluster = staticCluster('outbound|80||reviews', [], { transport_socket: sdsUpstreamTls() });
const listener = chainsListener('virtualInbound', [{
  ...filterChain(httpConnectionManager({ routeConfig: routeConfig('inbound', []) })),
  transport_socket: sdsDownstreamTls({ certificate: 'inbound-cert' }),
}]);

test('subscribes to the secrets clusters and listeners name, is ready once they arrived, dumps them redacted', async () => {
  const { ads, client, state, dataPlane } = await setup();
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener);
  const n1 = ads.respond(TypeUrl.Cluster, 'c1', [cluster]);
  await ads.waitForRequest((r) => r.response_nonce === n1 && r.error_detail === undefined);
  const n2 = ads.respond(TypeUrl.Listener, 'l1', [listener]);
  await ads.waitForRequest((r) => r.response_nonce === n2 && r.error_detail === undefined);
  const sds = await ads.waitForRequest((r) => r.type_url === TypeUrl.Secret && (r.resource_names ?? []).length === 3);
  assert.deepEqual(sds.resource_names, ['ROOTCA', 'default', 'inbound-cert']);
  assert.deepEqual(state.ready(), { ready: false, reason: 'waiting for secrets ROOTCA, default, inbound-cert' });

  const n3 = ads.respond(TypeUrl.Secret, 's1', [certificateSecret('default', workload, true), rootSecret('ROOTCA', [ca.caCert], true)]);
  const ack = await ads.waitForRequest((r) => r.response_nonce === n3);
  assert.equal(ack.error_detail, undefined);
  assert.equal(ack.version_info, 's1');
  assert.deepEqual(state.ready(), { ready: false, reason: 'waiting for secrets inbound-cert' });

  // State of the world over named resources: a response with only some names leaves the others in force.
  const n4 = ads.respond(TypeUrl.Secret, 's2', [certificateSecret('inbound-cert', inbound)]);
  await ads.waitForRequest((r) => r.response_nonce === n4 && r.error_detail === undefined);
  assert.deepEqual(state.ready(), { ready: true });
  assert.deepEqual(dataPlane.secrets.names().sort(), ['ROOTCA', 'default', 'inbound-cert']);

  const dump = state.dump(client) as { configs: { secrets: { version_info: string; resources: Record<string, any>[] } } };
  assert.equal(dump.configs.secrets.version_info, 's2');
  const secrets = dump.configs.secrets.resources;
  const byName = new Map(secrets.map((s) => [s.name, s]));
  assert.equal(byName.get('default')!['@type'], TypeUrl.Secret);
  assert.equal(byName.get('default')!.tls_certificate.private_key.inline_bytes, '[redacted]');
  assert.equal(byName.get('inbound-cert')!.tls_certificate.private_key.inline_string, '[redacted]');
  assert.equal(Buffer.from(byName.get('default')!.tls_certificate.certificate_chain.inline_bytes, 'base64').toString(), workload.cert.toString());
  const text = JSON.stringify(dump);
  assert.ok(!text.includes('PRIVATE KEY') && !text.includes(workload.key.toString('base64').slice(0, 40)), 'no private key in the dump');
});

test('a malformed secret is NACKed naming the secret and the field; the secret in force stays', async () => {
  const { ads, client, dataPlane } = await setup();
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener);
  const n1 = ads.respond(TypeUrl.Cluster, 'c1', [cluster]);
  await ads.waitForRequest((r) => r.response_nonce === n1);
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Secret && (r.resource_names ?? []).length === 2);
  const good = ads.respond(TypeUrl.Secret, 's1', [certificateSecret('default', workload, true), rootSecret('ROOTCA', [ca.caCert], true)]);
  await ads.waitForRequest((r) => r.response_nonce === good && r.error_detail === undefined);
  const serial = dataPlane.secrets.get('default')!.certificate!.serialNumber;

  const bad = ads.respond(TypeUrl.Secret, 's2', [
    { name: 'default', tls_certificate: { certificate_chain: { inline_bytes: workload.cert }, private_key: { inline_bytes: inbound.key } } },
    rootSecret('ROOTCA', [ca.caCert], true),
  ]);
  const nack = await ads.waitForRequest((r) => r.response_nonce === bad);
  assert.equal(nack.error_detail?.message, 'Secret default: tls_certificate.private_key does not match the first certificate of certificate_chain');
  assert.equal(nack.version_info, 's1', 'a NACK names the version still in force');
  assert.equal(client.acceptedVersion(TypeUrl.Secret), 's1');
  assert.equal(dataPlane.secrets.get('default')!.certificate!.serialNumber, serial);
});

test('follows no secret a rejected cluster names, and unsubscribes from the secrets no resource names any more', async () => {
  const { ads } = await setup();
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener);
  const n1 = ads.respond(TypeUrl.Cluster, 'c1', [cluster]);
  await ads.waitForRequest((r) => r.response_nonce === n1);
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Secret && (r.resource_names ?? []).length === 2);
  const fromFile = staticCluster('file-secret', [], {
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': TypeUrl.UpstreamTlsContext,
      common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'other', sds_config: { path_config_source: { path: '/etc/secret.yaml' } } }] },
    } },
  });
  const n2 = ads.respond(TypeUrl.Cluster, 'c2', [fromFile]);
  const nack = await ads.waitForRequest((r) => r.response_nonce === n2);
  assert.match(nack.error_detail?.message ?? '', /^Cluster file-secret: transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs\[0\]\.sds_config\.path_config_source is not supported: secrets are fetched over the ADS stream only/);
  const n3 = ads.respond(TypeUrl.Cluster, 'c3', [staticCluster('plain', [])]);
  await ads.waitForRequest((r) => r.response_nonce === n3 && r.error_detail === undefined);
  const last = await ads.waitForRequest((r) => r.type_url === TypeUrl.Secret && (r.resource_names ?? []).length === 0);
  assert.ok(!ads.requests.some((r) => r.type_url === TypeUrl.Secret && (r.resource_names ?? []).includes('other')));
  assert.ok(last);
});

test('opens the ADS stream with the given call metadata, over the given channel credentials', async () => {
  const serverCert = await ca.issue('control-plane', ['IP:127.0.0.1']);
  const ads = new FakeAds();
  await ads.start(0, grpc.ServerCredentials.createSsl(null, [{ cert_chain: serverCert.cert, private_key: serverCert.key }]));
  let issued = 0;
  await setup({
    credentials: grpc.credentials.createSsl(ca.caCert),
    callMetadata: () => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer token-${++issued}`);
      return md;
    },
  }, ads);
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Cluster);
  await waitFor('stream metadata', () => ads.metadata.length, (n) => n >= 1);
  assert.deepEqual(ads.metadata[0].get('authorization'), ['Bearer token-1']);
});
