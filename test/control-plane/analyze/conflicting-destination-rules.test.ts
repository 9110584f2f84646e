// destinationrule.ConflictingHostAnalyzer: Weft applies one DestinationRule per host and namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conflictingDestinationRules } from '../../../src/control-plane/analyze/analyzers/conflicting-destination-rules.ts';
import { destinationRule, findings } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [conflictingDestinationRules] });
const dr = (name: string, host: string, ns = 'default', extra = '') => destinationRule(name, `
  host: ${host}
  subsets: [{ name: ${name} }]${extra}`, ns);
const text = (name: string) => `Warning [WEFT0001] (DestinationRule default/${name}) The DestinationRules reviews-a, reviews-b in namespace default `
  + 'define the same host reviews.default.svc.cluster.local. A client applies one DestinationRule per host, so the others are ignored; merge them into a single resource.';

test('two DestinationRules of one namespace for one host are both reported', () => {
  assert.deepEqual(run(dr('reviews-a', 'reviews') + dr('reviews-b', 'reviews.default.svc.cluster.local')), [text('reviews-a'), text('reviews-b')]);
});

test('rules in different namespaces, for different hosts or with a workloadSelector do not conflict', () => {
  assert.deepEqual(run(dr('reviews-a', 'reviews.default.svc.cluster.local') + dr('reviews-b', 'reviews.default.svc.cluster.local', 'prod')), []);
  assert.deepEqual(run(dr('reviews-a', 'reviews') + dr('ratings', 'ratings')), []);
  assert.deepEqual(run(dr('reviews-a', 'reviews') + dr('reviews-b', 'reviews', 'default', '\n  workloadSelector: { matchLabels: { app: productpage } }')), []);
});
