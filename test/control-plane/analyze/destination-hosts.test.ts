// virtualservice.DestinationHostAnalyzer: destinations and mirrors name services in the registry,
// on one of their ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationHosts } from '../../../src/control-plane/analyze/analyzers/destination-hosts.ts';
import { findings, serviceEntry, virtualService } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [destinationHosts] });
const REVIEWS = serviceEntry('reviews', 'reviews.default.svc.cluster.local');

test('a destination host that no ServiceEntry defines is reported as IST0101', () => {
  assert.deepEqual(run(REVIEWS + virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: ratings }, weight: 50 }, { destination: { host: reviews }, weight: 50 }] }]`)), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host not found: "ratings"',
  ]);
});

test('short names resolve in the VirtualService\'s namespace, FQDNs as written', () => {
  assert.deepEqual(run(REVIEWS + virtualService('a', `
  hosts: [a.example.com]
  http: [{ route: [{ destination: { host: reviews.default.svc.cluster.local } }] }]`, 'prod')), []);
  assert.deepEqual(run(REVIEWS + virtualService('a', `
  hosts: [a.example.com]
  http: [{ route: [{ destination: { host: reviews } }] }]`, 'prod')), [
    'Error [IST0101] (VirtualService prod/a) Referenced host not found: "reviews"',
  ]);
});

test('mirror hosts, TCP and TLS destinations are checked too', () => {
  assert.deepEqual(run(REVIEWS + virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews } }], mirror: { host: shadow }, mirrorPercentage: { value: 5 } }]
  tcp: [{ route: [{ destination: { host: db } }] }]`)), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host not found: "db"',
    'Error [IST0101] (VirtualService default/reviews) Referenced mirror host not found: "shadow"',
  ]);
});

test('a ServiceEntry exported only to its namespace is not found from another', () => {
  const se = serviceEntry('reviews', 'reviews.default.svc.cluster.local', { exportTo: ['.'] });
  const vs = (ns: string) => virtualService('r', `
  hosts: [r.example.com]
  http: [{ route: [{ destination: { host: reviews.default.svc.cluster.local } }] }]`, ns);
  assert.deepEqual(run(se + vs('default')), []);
  assert.deepEqual(run(se + vs('prod')), [
    'Error [IST0101] (VirtualService prod/r) Referenced host not found: "reviews.default.svc.cluster.local"',
  ]);
});

test('a wildcard ServiceEntry host covers the names under it', () => {
  assert.deepEqual(run(serviceEntry('ext', '*.example.com', { resolution: 'NONE' }) + virtualService('api', `
  hosts: [api.example.com]
  http: [{ route: [{ destination: { host: api.example.com } }] }]`)), []);
});

test('a port the service does not have is reported as host:port', () => {
  assert.deepEqual(run(REVIEWS + virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, port: { number: 9090 } } }] }]`)), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host:port not found: "reviews:9090"',
  ]);
});

test('a destination without port to a service with several ports is IST0112', () => {
  const se = serviceEntry('reviews', 'reviews.default.svc.cluster.local', { ports: [9080, 9090] });
  assert.deepEqual(run(se + virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews } }] }, { route: [{ destination: { host: reviews, port: { number: 9090 } } }] }]`)), [
    'Error [IST0112] (VirtualService default/reviews) This VirtualService routes to a service "reviews" that exposes multiple ports [9080 9090]. '
      + 'Specifying a port in the destination is required to disambiguate.',
  ]);
});

test('the destinations of a delegate VirtualService are checked in its own namespace', () => {
  assert.deepEqual(run(REVIEWS + virtualService('routes', `
  http: [{ route: [{ destination: { host: reviews } }] }]`, 'prod')), [
    'Error [IST0101] (VirtualService prod/routes) Referenced host not found: "reviews"',
  ]);
});
