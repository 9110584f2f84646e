// virtualservice.GatewayAnalyzer: the gateways a VirtualService binds to exist and serve its hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateways } from '../../../src/control-plane/analyze/analyzers/gateways.ts';
import { findings, virtualService } from './support.ts';

const run = (yaml: string) => findings(yaml, { analyzers: [gateways] });
const gateway = (name: string, ns: string, hosts: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${ns} }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ${hosts} }]
---
`;
const vs = (gws: string, hosts = '[bookinfo.example.com]') => virtualService('bookinfo', `
  hosts: ${hosts}
  gateways: ${gws}
  http: [{ route: [{ destination: { host: productpage } }] }]`);

test('a gateway that does not exist is IST0101', () => {
  assert.deepEqual(run(vs('[bookinfo-gateway, mesh]')), [
    'Error [IST0101] (VirtualService default/bookinfo) Referenced gateway not found: "bookinfo-gateway"',
  ]);
});

test('gateways are found in the VirtualService\'s namespace, by namespace/name, or by the legacy name.namespace', () => {
  const gw = gateway('ingress', 'istio-system', '["*.example.com"]') + gateway('local', 'default', '["*"]');
  assert.deepEqual(run(gw + vs('[istio-system/ingress, local, ingress.istio-system.svc.cluster.local]')), []);
  assert.deepEqual(run(gw + vs('[ingress]')), [
    'Error [IST0101] (VirtualService default/bookinfo) Referenced gateway not found: "ingress"',
  ]);
});

test('a gateway that serves none of the VirtualService\'s hosts is IST0132', () => {
  assert.deepEqual(run(gateway('ingress', 'default', '[shop.example.com]') + vs('[ingress]', '[bookinfo.example.com, reviews.example.com]')), [
    'Warning [IST0132] (VirtualService default/bookinfo) one or more host [bookinfo.example.com reviews.example.com] defined in VirtualService default/bookinfo '
      + 'not found in Gateway default/ingress.',
  ]);
});

test('a gateway host with a namespace serves only VirtualServices of that namespace', () => {
  assert.deepEqual(run(gateway('ingress', 'istio-system', '["prod/*"]') + vs('[istio-system/ingress]')).length, 1);
  assert.deepEqual(run(gateway('ingress', 'istio-system', '["default/*"]') + vs('[istio-system/ingress]')), []);
  assert.deepEqual(run(gateway('ingress', 'default', '["./*"]') + vs('[ingress]')), []);
});
