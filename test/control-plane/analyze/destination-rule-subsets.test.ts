// destinationrule.SubsetSelectPodAnalyzer: each subset selects at least one workload of the
// service: an inline endpoint, a WorkloadEntry or a registered sidecar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationRuleSubsets } from '../../../src/control-plane/analyze/analyzers/destination-rule-subsets.ts';
import type { ProxyMetadata } from '../../../src/xds/node-metadata.ts';
import { destinationRule, findings, serviceEntry } from './support.ts';

const run = (yaml: string, proxies?: Map<string, ProxyMetadata>) => findings(yaml, { analyzers: [destinationRuleSubsets], proxies });
const DR = destinationRule('reviews', `
  host: reviews.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]`);

test('a subset whose labels match no endpoint is IST0173', () => {
  const se = serviceEntry('reviews', 'reviews.default.svc.cluster.local', { endpoints: [{ app: 'reviews', version: 'v1' }] });
  assert.deepEqual(run(se + DR), [
    'Error [IST0173] (DestinationRule default/reviews) The Subset v2 defined in the DestinationRule does not select any workloads. '
      + 'Which may lead to 503 UH (NoHealthyUpstream).',
  ]);
});

test('WorkloadEntries and registered sidecars selected by the ServiceEntry count as workloads', () => {
  const se = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews.default.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 9080, name: http }]
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: vm-v1 }
spec: { address: 10.1.1.1, labels: { app: reviews, version: v1 } }
---
`;
  assert.deepEqual(run(se + DR).length, 1, 'v2 has no workload yet');
  const sidecar: ProxyMetadata = {
    namespace: 'default', workloadName: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'reviews',
    address: '127.0.0.1', inbound: [{ servicePort: 9080, port: 15006, appPort: 8080 }],
  };
  assert.deepEqual(run(se + DR, new Map([['reviews-v2.default', sidecar]])), []);
});

test('services whose endpoints are not known to the registry (DNS, NONE) are not judged', () => {
  assert.deepEqual(run(serviceEntry('reviews', 'reviews.default.svc.cluster.local', { resolution: 'DNS' }) + DR), []);
});

test('a rule for an unknown host is left to the host analyzer', () => {
  assert.deepEqual(run(DR), []);
});
