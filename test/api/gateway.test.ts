import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../src/api/index.ts';
import { assertValid, errorTexts, resource } from './helpers.ts';

const GW = 'Gateway';
const E = (rest: string) => `Gateway default/r: ${rest}`;
const httpServer = { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] };

test('gateways with HTTP, HTTPS and TLS servers are valid', () => {
  assertValid(GW, {
    selector: { istio: 'ingressgateway' },
    servers: [
      { ...httpServer, tls: { httpsRedirect: true }, name: 'http' },
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['prod/*.example.com', './a.example.com'], tls: { mode: 'SIMPLE', credentialName: 'tls-cert', minProtocolVersion: 'TLSV1_2' } },
      { port: { number: 15443, name: 'tls', protocol: 'TLS' }, hosts: ['*.local'], tls: { mode: 'AUTO_PASSTHROUGH' } },
      { port: { number: 8443, name: 'mtls', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'MUTUAL', serverCertificate: '/c.pem', privateKey: '/k.pem', caCertificates: '/ca.pem' } },
      { port: { number: 0, name: 'uds', protocol: 'HTTP' }, bind: 'unix:///var/run/gw.sock', hosts: ['*'] },
    ],
  });
});

test('servers need ports and hosts, and port names are unique', () => {
  assert.deepEqual(errorTexts(GW, { servers: [] }), [E('spec.servers: must not be empty')]);
  assert.deepEqual(errorTexts(GW, { servers: [{ hosts: ['*'] }, { port: { number: 81, name: 'http' } }] }), [
    E('spec.servers[0].port: is required'),
    E('spec.servers[1].port.protocol: is required'),
    E('spec.servers[1].hosts: is required'),
  ]);
  assert.deepEqual(errorTexts(GW, { servers: [httpServer, { ...httpServer, port: { ...httpServer.port, number: 81 } }] }), [
    E('spec.servers[1].port.name: duplicate port name "http"'),
  ]);
});

test('TLS settings must match the port protocol', () => {
  assert.deepEqual(errorTexts(GW, { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'] }] }), [
    E('spec.servers[0].tls: is required for HTTPS ports'),
  ]);
  assert.deepEqual(errorTexts(GW, { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'ISTIO_MUTUAL', credentialName: 'c' } }] }), [
    E('spec.servers[0].tls.credentialName: cannot be set when mode is ISTIO_MUTUAL'),
  ]);
  assert.deepEqual(errorTexts(GW, { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE' } }] }), [
    E('spec.servers[0].tls: SIMPLE TLS requires credentialName, or serverCertificate and privateKey'),
  ]);
});

test('a Gateway name is a DNS label', () => {
  const result = validateResource(resource(GW, { servers: [httpServer] }, { name: 'my.gateway' }));
  assert.deepEqual(result.errors.map((e) => e.text), [
    'Gateway default/my.gateway: metadata.name: a Gateway name must be a DNS-1123 label (no dots)',
  ]);
});
