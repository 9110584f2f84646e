// virtualservice.ConflictingMeshGatewayHostsAnalyzer: one host, one VirtualService for sidecars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conflictingMeshHosts } from '../../../src/control-plane/analyze/analyzers/conflicting-mesh-hosts.ts';
import { findings, virtualService } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [conflictingMeshHosts] });
const vs = (name: string, hosts: string, extra = '', ns = 'default') => virtualService(name, `
  hosts: ${hosts}
${extra}  http: [{ route: [{ destination: { host: reviews } }] }]`, ns);
const conflict = (vsName: string, names: string, host: string) =>
  `Error [IST0109] (VirtualService ${vsName}) The VirtualServices ${names} associated with mesh gateway define the same host ${host} `
  + 'which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.';

test('two mesh VirtualServices for the same host are both reported, however the host is written', () => {
  assert.deepEqual(run(vs('a', '[reviews]') + vs('b', '[reviews.default.svc.cluster.local]')), [
    conflict('default/a', 'default/a,default/b', '*/reviews.default.svc.cluster.local'),
    conflict('default/b', 'default/a,default/b', '*/reviews.default.svc.cluster.local'),
  ]);
});

test('VirtualServices bound only to gateways do not conflict with mesh ones', () => {
  assert.deepEqual(run(vs('a', '[reviews]') + vs('b', '[reviews]', '  gateways: [bookinfo-gateway]\n')), []);
  assert.deepEqual(run(vs('a', '[reviews]') + vs('b', '[reviews]', '  gateways: [bookinfo-gateway, mesh]\n')).length, 2);
});

test('VirtualServices exported to different namespaces do not conflict', () => {
  const host = '[reviews.default.svc.cluster.local]';
  assert.deepEqual(run(vs('a', host, '  exportTo: ["."]\n') + vs('b', host, '  exportTo: ["."]\n', 'prod')), []);
  assert.deepEqual(run(vs('a', host, '  exportTo: ["."]\n') + vs('b', host, '  exportTo: [default]\n', 'prod')).length, 2);
});

test('a public wildcard host conflicts with a namespace-scoped host it covers', () => {
  assert.deepEqual(run(vs('all', '["*.example.com"]') + vs('api', '[api.example.com]', '  exportTo: ["."]\n', 'prod')), [
    conflict('default/all', 'default/all,prod/api', 'prod/api.example.com'),
    conflict('prod/api', 'default/all,prod/api', 'prod/api.example.com'),
  ]);
});

test('delegate VirtualServices (no hosts) take part in no conflict', () => {
  assert.deepEqual(run(vs('a', '[reviews]') + virtualService('routes', '  http: [{ route: [{ destination: { host: reviews } }] }]')), []);
});
