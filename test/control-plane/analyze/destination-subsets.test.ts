// virtualservice.DestinationRuleAnalyzer: a subset a VirtualService names is defined by a
// DestinationRule that applies to the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationSubsets } from '../../../src/control-plane/analyze/analyzers/destination-subsets.ts';
import { destinationRule, findings, serviceEntry, virtualService } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [destinationSubsets] });
const REVIEWS = serviceEntry('reviews', 'reviews.default.svc.cluster.local');
const DR = destinationRule('reviews', `
  host: reviews.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]`);
const routeTo = (subset: string) => virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: ${subset} } }] }]`);

test('a subset no DestinationRule defines is reported as IST0101 host+subset', () => {
  assert.deepEqual(run(REVIEWS + DR + routeTo('v9')), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v9"',
  ]);
});

test('a subset defined by the DestinationRule for the host is fine, however the host is written', () => {
  assert.deepEqual(run(REVIEWS + DR + routeTo('v2')), []);
  assert.deepEqual(run(REVIEWS + destinationRule('reviews', `
  host: reviews
  subsets: [{ name: v2 }]`) + routeTo('v2')), []);
});

test('without any DestinationRule for the host, every subset is missing', () => {
  assert.deepEqual(run(REVIEWS + routeTo('v1')), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v1"',
  ]);
});

test('mirror subsets are checked', () => {
  assert.deepEqual(run(REVIEWS + DR + virtualService('reviews', `
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v1 } }], mirror: { host: reviews, subset: v3 } }]`)), [
    'Error [IST0101] (VirtualService default/reviews) Referenced mirror+subset in destinationrule not found: "reviews+v3"',
  ]);
});

test('an exact DestinationRule hides the subsets of a wildcard one', () => {
  const wildcard = destinationRule('all', `
  host: "*.svc.cluster.local"
  subsets: [{ name: canary, labels: { track: canary } }]`, 'istio-system');
  assert.deepEqual(run(REVIEWS + wildcard + routeTo('canary')), []);
  assert.deepEqual(run(REVIEWS + wildcard + DR + routeTo('canary')), [
    'Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+canary"',
  ]);
});
