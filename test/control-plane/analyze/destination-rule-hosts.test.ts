// destinationrule.UnknownHostAnalyzer: a DestinationRule's host is a service of the mesh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationRuleHosts } from '../../../src/control-plane/analyze/analyzers/destination-rule-hosts.ts';
import { destinationRule, findings, serviceEntry } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [destinationRuleHosts] });
const REVIEWS = serviceEntry('reviews', 'reviews.default.svc.cluster.local');

test('a DestinationRule for a host no ServiceEntry defines is IST0174 (a warning)', () => {
  assert.deepEqual(run(REVIEWS + destinationRule('ratings', 'host: ratings\ntrafficPolicy: { loadBalancer: { simple: RANDOM } }')), [
    'Warning [IST0174] (DestinationRule default/ratings) The host ratings defined in the DestinationRule does not match any services in the mesh.',
  ]);
  assert.deepEqual(run(REVIEWS + destinationRule('reviews', 'host: reviews\ntrafficPolicy: { loadBalancer: { simple: RANDOM } }')), []);
});

test('a short host resolves in the DestinationRule\'s namespace', () => {
  assert.deepEqual(run(REVIEWS + destinationRule('reviews', 'host: reviews\ntrafficPolicy: { loadBalancer: { simple: RANDOM } }', 'prod')), [
    'Warning [IST0174] (DestinationRule prod/reviews) The host reviews defined in the DestinationRule does not match any services in the mesh.',
  ]);
});

test('a wildcard host must cover at least one service', () => {
  const dr = (host: string) => destinationRule('all', `host: "${host}"\ntrafficPolicy: { tls: { mode: ISTIO_MUTUAL } }`);
  assert.deepEqual(run(REVIEWS + dr('*.svc.cluster.local')), []);
  assert.deepEqual(run(REVIEWS + dr('*.example.com')), [
    'Warning [IST0174] (DestinationRule default/all) The host *.example.com defined in the DestinationRule does not match any services in the mesh.',
  ]);
});
