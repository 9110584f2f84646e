// virtualservice.DelegateAnalyzer: delegate references name delegate VirtualServices the root can use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegates } from '../../../src/control-plane/analyze/analyzers/delegates.ts';
import { findings, virtualService } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [delegates] });
const root = (name: string, delegate: string, ns = 'default') => virtualService(name, `
  hosts: [${name}.example.com]
  http: [{ match: [{ uri: { prefix: /reviews } }], delegate: ${delegate} }]`, ns);
const delegate = (name: string, ns = 'default', extra = '') => virtualService(name, `
${extra}  http: [{ route: [{ destination: { host: reviews } }] }]`, ns);

test('a root and its delegate are fine', () => {
  assert.deepEqual(run(root('bookinfo', '{ name: reviews-routes, namespace: prod }') + delegate('reviews-routes', 'prod')), []);
  assert.deepEqual(run(root('bookinfo', '{ name: reviews-routes }') + delegate('reviews-routes')), []);
});

test('a delegate that does not exist is IST0101', () => {
  assert.deepEqual(run(root('bookinfo', '{ name: reviews-routes, namespace: prod }')), [
    'Error [IST0101] (VirtualService default/bookinfo) Referenced delegate VirtualService not found: "prod/reviews-routes"',
  ]);
});

test('a referenced VirtualService with hosts is not a delegate', () => {
  assert.deepEqual(run(root('bookinfo', '{ name: shop }') + root('shop', '{ name: reviews-routes }') + delegate('reviews-routes')), [
    'Error [WEFT0002] (VirtualService default/bookinfo) Referenced delegate VirtualService "default/shop" has hosts, so it is not a delegate '
      + '(only a VirtualService without hosts can be delegated to).',
  ]);
});

test('a delegate not exported to the root\'s namespace is reported', () => {
  assert.deepEqual(run(root('bookinfo', '{ name: reviews-routes, namespace: prod }') + delegate('reviews-routes', 'prod', '  exportTo: ["."]\n')), [
    'Error [WEFT0003] (VirtualService default/bookinfo) Referenced delegate VirtualService "prod/reviews-routes" is not exported to namespace default '
      + '(exportTo [.]), so its routes are not used.',
  ]);
  assert.deepEqual(run(root('bookinfo', '{ name: reviews-routes, namespace: prod }') + delegate('reviews-routes', 'prod', '  exportTo: [default]\n')), []);
});

test('a delegate nobody references is unused; one referenced by two roots is noted', () => {
  assert.deepEqual(run(delegate('reviews-routes')), [
    'Warning [WEFT0005] (VirtualService default/reviews-routes) This VirtualService has no hosts, so it is a delegate, but no VirtualService delegates to it: '
      + 'its routes are not used.',
  ]);
  assert.deepEqual(run(root('a', '{ name: reviews-routes }') + root('b', '{ name: reviews-routes }') + delegate('reviews-routes')), [
    'Info [WEFT0004] (VirtualService default/reviews-routes) This delegate VirtualService is referenced by 2 VirtualServices (default/a, default/b); '
      + 'a change to it affects all of them.',
  ]);
});
