import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValid, errorCodes, errorTexts } from './helpers.ts';

const SE = 'ServiceEntry';
const E = (rest: string) => `ServiceEntry default/r: ${rest}`;
const http = { number: 80, name: 'http', protocol: 'HTTP' };

test('service entries for external DNS, static endpoints and selected workloads are valid', () => {
  assertValid(SE, {
    hosts: ['api.example.com', '*.googleapis.com'], location: 'MESH_EXTERNAL', resolution: 'NONE',
    ports: [{ number: 443, name: 'https', protocol: 'TLS' }, { number: 80, name: 'http', protocol: 'http' }],
    exportTo: ['~'], subjectAltNames: ['spiffe://example.com/api'],
  });
  assertValid(SE, {
    hosts: ['details.bookinfo.local'], addresses: ['240.0.0.1', '10.1.0.0/16'], location: 'MESH_INTERNAL', resolution: 'STATIC',
    ports: [{ number: 9080, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
    endpoints: [
      { address: '10.1.0.5', ports: { http: 8081 }, labels: { version: 'v1' }, weight: 3, locality: 'us-west/zone1', network: 'n1', serviceAccount: 'details' },
      { address: '2001:db8::5' },
      { address: 'unix:///var/run/details.sock' },
    ],
  });
  assertValid(SE, { hosts: ['ratings.bookinfo.local'], resolution: 'STATIC', ports: [http], workloadSelector: { labels: { app: 'ratings' } } });
  assertValid(SE, { hosts: ['db.example.com'], resolution: 'DNS_ROUND_ROBIN', ports: [{ number: 5432, name: 'pg', protocol: 'TCP' }] });
  assertValid(SE, { hosts: ['mongo.svc'], resolution: 'DNS', ports: [{ number: 27017, name: 'mongo', protocol: 'MONGO' }], endpoints: [{ address: 'mongo-0.example.com' }] });
});

test('hosts are required, non-empty and not "*"', () => {
  assert.deepEqual(errorTexts(SE, { ports: [http] }), [E('spec.hosts: is required')]);
  assert.deepEqual(errorTexts(SE, { hosts: [] }), [E('spec.hosts: must not be empty')]);
  assert.deepEqual(errorTexts(SE, { hosts: ['*'] }), [E('spec.hosts[0]: the wildcard host "*" is not allowed')]);
});

test('port numbers are 1..65535 and port names and numbers are unique', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], ports: [{ number: 0, name: 'http' }, { number: 70000, name: 'grpc' }] }), [
    E('spec.ports[0].number: must be an integer 1..65535'),
    E('spec.ports[1].number: must be an integer 1..65535'),
  ]);
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], ports: [http, { number: 80, name: 'http', protocol: 'HTTP2' }] }), [
    E('spec.ports[1].name: duplicate port name "http"'),
    E('spec.ports[1].number: duplicate port number 80'),
  ]);
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], ports: [{ number: 80 }] }), [E('spec.ports[0].name: is required')]);
});

test('port protocols are Istio\'s', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], ports: [{ number: 80, name: 'web', protocol: 'QUIC' }] }), [
    E('spec.ports[0].protocol: "QUIC" is not a supported protocol (use one of HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS)'),
  ]);
  for (const protocol of ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS', 'grpc-web', 'Redis']) {
    assertValid(SE, { hosts: ['a.com'], ports: [{ number: 80, name: 'p', protocol }] });
  }
});

test('STATIC resolution takes endpoints or a workload selector, not both', () => {
  assertValid(SE, { hosts: ['a.local'], resolution: 'STATIC', ports: [http] });
  assert.deepEqual(errorTexts(SE, {
    hosts: ['a.local'], resolution: 'STATIC', ports: [http], endpoints: [{ address: '10.0.0.1' }], workloadSelector: { labels: { app: 'a' } },
  }), [E('spec: only one of endpoints, workloadSelector may be set (found endpoints and workloadSelector)')]);
});

test('endpoints must fit the resolution and the service ports', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.local'], ports: [http], endpoints: [{ address: '10.0.0.1' }] }), [
    E('spec.endpoints: endpoints cannot be set when resolution is NONE'),
  ]);
  assert.deepEqual(errorTexts(SE, { hosts: ['a.local'], resolution: 'STATIC', ports: [http], endpoints: [{ address: 'vm1.example.com', ports: { grpc: 9000 } }] }), [
    E('spec.endpoints[0].address: must be an IP address or a unix:// socket when resolution is STATIC'),
    E('spec.endpoints[0].ports.grpc: port "grpc" is not one of the service entry\'s ports'),
  ]);
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], resolution: 'DNS_ROUND_ROBIN', ports: [http], endpoints: [{ address: 'x.com' }, { address: 'y.com' }] }), [
    E('spec.endpoints: resolution DNS_ROUND_ROBIN allows at most one endpoint'),
  ]);
  assert.deepEqual(errorTexts(SE, { hosts: ['a.local'], resolution: 'STATIC', endpoints: [{ ports: { http: 80 } }], ports: [http] }), [
    E('spec.endpoints[0].address: is required (unless network is set)'),
  ]);
});

test('DNS resolution without endpoints needs fully qualified hosts', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['*.example.com'], resolution: 'DNS', ports: [http] }), [
    E('spec.hosts[0]: must be a fully qualified host name (no wildcard) when resolution is DNS and there are no endpoints'),
  ]);
});

test('addresses are IPs or CIDR blocks, CIDR only without DNS resolution', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], addresses: ['10.0.0.0/33', 'example.com'] }), [
    E('spec.addresses[0]: "10.0.0.0/33" is not a valid IP address or CIDR block'),
    E('spec.addresses[1]: "example.com" is not a valid IP address or CIDR block'),
  ]);
  assert.deepEqual(errorCodes(SE, { hosts: ['a.com'], addresses: ['10.0.0.0/8'], resolution: 'DNS', ports: [http] }), [
    ['WEFT_E_INVALID_VALUE', 'spec.addresses[0]'],
  ]);
});

test('several hosts need HTTP or TLS ports unless resolution is NONE', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com', 'b.com'], resolution: 'DNS', ports: [http, { number: 5432, name: 'pg', protocol: 'TCP' }] }), [
    E('spec.ports[1].protocol: a service entry with several hosts needs HTTP or TLS ports (plain TCP cannot tell the hosts apart) unless resolution is NONE'),
  ]);
});

test('location and resolution are Istio enums', () => {
  assert.deepEqual(errorTexts(SE, { hosts: ['a.com'], location: 'EXTERNAL', resolution: 'dns' }), [
    E('spec.location: must be one of MESH_EXTERNAL, MESH_INTERNAL (got "EXTERNAL")'),
    E('spec.resolution: must be one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS (got "dns")'),
  ]);
});
