import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValid, errorTexts } from './helpers.ts';

const WE = 'WorkloadEntry';
const E = (rest: string) => `WorkloadEntry default/r: ${rest}`;

test('workload entries with every field are valid', () => {
  assertValid(WE, {
    address: '10.0.0.12', ports: { http: 9080, 'grpc-admin': 15000 }, labels: { app: 'details', version: 'v1' },
    network: 'vm-network', locality: 'us-west/zone1/rack2', weight: 10, serviceAccount: 'details',
  });
  assertValid(WE, { address: 'vm-1.example.com' });
  assertValid(WE, { address: 'unix://@abstract' });
  assertValid(WE, { network: 'remote' });
});

test('an address is required unless a network is set', () => {
  assert.deepEqual(errorTexts(WE, { labels: { app: 'a' } }), [E('spec.address: is required (unless network is set)')]);
});

test('unix socket addresses are absolute and have no ports', () => {
  assert.deepEqual(errorTexts(WE, { address: 'unix://relative/sock' }), [
    E('spec.address: a unix domain socket must be an absolute path or an abstract socket (@name)'),
  ]);
  assert.deepEqual(errorTexts(WE, { address: 'unix:///var/run/a.sock', ports: { http: 80 } }), [
    E('spec.ports: a unix domain socket address cannot have ports'),
  ]);
  assert.deepEqual(errorTexts(WE, { address: 'not an address' }), [
    E('spec.address: "not an address" is not a valid IP address, host name or unix:// socket'),
  ]);
});

test('ports map valid names to numbers 1..65535', () => {
  assert.deepEqual(errorTexts(WE, { address: '10.0.0.1', ports: { http: 0, 'bad_name': 80, grpc: '9000' } }), [
    E('spec.ports.http: must be an integer 1..65535'),
    E('spec.ports.bad_name: port name "bad_name" is not a valid DNS label'),
    E('spec.ports.grpc: must be an integer 1..65535'),
  ]);
  assert.deepEqual(errorTexts(WE, { address: '10.0.0.1', ports: [80] }), [E('spec.ports: must be a map of integers 1..65535')]);
});

test('labels, weight and service account are checked', () => {
  assert.deepEqual(errorTexts(WE, { address: '10.0.0.1', labels: { 'bad key!': 'x' }, weight: -1, serviceAccount: 'x'.repeat(254) }), [
    E('spec.labels["bad key!"]: invalid label key "bad key!"'),
    E('spec.weight: must be an integer 0..4294967295'),
    E('spec.serviceAccount: must be at most 253 characters'),
  ]);
});
