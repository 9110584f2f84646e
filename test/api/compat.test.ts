// Istio's own bookinfo samples must parse unchanged. They are read in place from the shared folder
// beside the repository (../shared/compat/istio), not copied into it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests, resourceKey } from '../../src/api/index.ts';

const SAMPLES = [
  process.env.WEFT_ISTIO_COMPAT_DIR,
  fileURLToPath(new URL('../../../shared/compat/istio/bookinfo-networking', import.meta.url)),
  '/work/shared/compat/istio/bookinfo-networking',
].find((d): d is string => !!d && existsSync(d)) ?? '../shared/compat/istio/bookinfo-networking';
const present = existsSync(SAMPLES);
const skip = present ? false : `Istio bookinfo samples not found at ${SAMPLES}`;

test('every bookinfo networking sample parses with zero errors', { skip }, () => {
  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length >= 16, `only ${files.length} samples found`);
  for (const file of files) {
    const { resources, errors } = parseManifests(readFileSync(join(SAMPLES, file), 'utf8'), { source: file });
    assert.deepEqual(errors.map(String), [], file);
    assert.ok(resources.length > 0, `${file}: no resources`);
  }
});

test('the bookinfo samples yield the resources Istio\'s tasks describe', { skip }, () => {
  const read = (file: string) => parseManifests(readFileSync(join(SAMPLES, file), 'utf8'), { source: file }).resources;
  assert.deepEqual(read('destination-rule-all.yaml').map(resourceKey), [
    'DestinationRule/default/productpage', 'DestinationRule/default/reviews', 'DestinationRule/default/ratings', 'DestinationRule/default/details',
  ]);
  assert.deepEqual(read('bookinfo-gateway.yaml').map(resourceKey), ['Gateway/default/bookinfo-gateway', 'VirtualService/default/bookinfo']);
  const [reviews] = read('virtual-service-reviews-80-20.yaml');
  assert.deepEqual(reviews.spec, {
    hosts: ['reviews'],
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }],
  });
  const [ratings] = read('virtual-service-ratings-test-delay.yaml');
  assert.deepEqual((ratings.spec as { http: { fault?: unknown }[] }).http[0].fault, { delay: { percentage: { value: 100 }, fixedDelay: '7s' } });
});
