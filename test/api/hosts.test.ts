import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fqdn, parseDuration } from '../../src/api/index.ts';

test('a short host name is expanded in the rule\'s namespace', () => {
  assert.equal(fqdn('reviews', 'default'), 'reviews.default.svc.cluster.local');
  assert.equal(fqdn('reviews', 'prod', 'mesh.internal'), 'reviews.prod.svc.mesh.internal');
});

test('names with a dot, wildcards and IP addresses are taken as written', () => {
  assert.equal(fqdn('reviews.other', 'default'), 'reviews.other');
  assert.equal(fqdn('reviews.default.svc.cluster.local', 'prod'), 'reviews.default.svc.cluster.local');
  assert.equal(fqdn('*.example.com', 'default'), '*.example.com');
  assert.equal(fqdn('*', 'default'), '*');
  assert.equal(fqdn('10.0.0.1', 'default'), '10.0.0.1');
  assert.equal(fqdn('::1', 'default'), '::1');
  assert.equal(fqdn('fe80::1', 'default'), 'fe80::1');
});

test('durations parse to milliseconds', () => {
  const cases: [string, number | undefined][] = [
    ['1s', 1000], ['0.5s', 500], ['100ms', 100], ['1m', 60_000], ['1h', 3_600_000], ['1h30m', 5_400_000],
    ['1.5s', 1500], ['.5s', 500], ['1500us', 1.5], ['1000000ns', 1], ['0.001s', 1], ['0', 0], ['0s', 0],
    ['', undefined], ['1', undefined], ['s', undefined], ['-1s', undefined], ['1 s', undefined], ['1d', undefined], ['1s ', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});
