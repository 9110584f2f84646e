// `weft analyze` against a real control plane process: findings printed as istioctl prints them,
// istioctl's exit codes, namespaces, output formats, and files analyzed without being applied.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses } from '../harness/process.ts';

let mesh: Mesh;
let dir: string;
before(async () => {
  mesh = await Mesh.start();
  dir = await mkdtemp(join(tmpdir(), 'weft-analyze-'));
});
after(async () => {
  await mesh?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  assertNoLeakedProcesses();
});

const reviews = (ns: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: ${ns} }
spec:
  hosts: [reviews.${ns}.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.0.1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: ${ns} }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }]
`;

const routeTo = (ns: string, subset: string, host = 'reviews') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: ${ns} }
spec:
  hosts: [reviews]
  http:
  - route: [{ destination: { host: ${host}, subset: ${subset} } }]
`;

const ANALYZE_ERROR = (target: string) => `Error: Analyzers found issues when analyzing ${target}.\n`;

test('a consistent namespace: no findings, the istioctl success line, exit 0', async () => {
  await mesh.apply(`${reviews('clean')}---\n${routeTo('clean', 'v1')}`);
  const r = await mesh.weft(['analyze', '-n', 'clean']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '\u2714 No validation issues found when analyzing namespace: clean.\n');
});

test('errors are printed one per line with Istio\'s codes, and the exit status is 79', async () => {
  await mesh.apply(`${reviews('shop')}---\n${routeTo('shop', 'v9')}`);
  const r = await mesh.weft(['analyze', '-n', 'shop']);
  assert.equal(r.code, 79, r.stderr);
  assert.equal(r.stdout, 'Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule not found: "reviews+v9"\n');
  assert.equal(r.stderr, ANALYZE_ERROR('namespace: shop'));
});

test('warnings alone leave the exit status at 0, unless --failure-threshold says otherwise', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings, namespace: warn }
spec: { host: ratings, trafficPolicy: { loadBalancer: { simple: RANDOM } } }
`);
  const r = await mesh.weft(['analyze', '-n', 'warn']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Warning [IST0174] (DestinationRule warn/ratings) The host ratings defined in the DestinationRule does not match any services in the mesh.\n');
  assert.equal((await mesh.weft(['analyze', '-n', 'warn', '--failure-threshold', 'Warning'])).code, 79);
  const errorsOnly = await mesh.weft(['analyze', '-n', 'warn', '--output-threshold', 'Error']);
  assert.equal(errorsOnly.stdout, '');
});

test('the default namespace is "default"; -A reports every namespace', async () => {
  const def = await mesh.weft(['analyze']);
  assert.equal(def.code, 0, def.stderr);
  assert.equal(def.stderr, '\u2714 No validation issues found when analyzing namespace: default.\n');
  const all = await mesh.weft(['analyze', '-A']);
  assert.equal(all.code, 79);
  const lines = all.stdout.trim().split('\n');
  assert.ok(lines.includes('Error [IST0101] (VirtualService shop/reviews) Referenced host+subset in destinationrule not found: "reviews+v9"'), all.stdout);
  assert.ok(lines.some((l) => l.startsWith('Warning [IST0174] (DestinationRule warn/ratings)')), all.stdout);
  assert.ok(lines.every((l) => !/\/(clean)\//.test(l)), 'the consistent namespace has nothing to report');
  assert.equal(all.stderr, ANALYZE_ERROR('all namespaces'));
});

test('-o json and -o yaml print the findings as data, and exit 0 as istioctl does', async () => {
  const j = await mesh.weft(['analyze', '-n', 'shop', '-o', 'json']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), [{
    code: 'IST0101', level: 'Error', origin: 'VirtualService shop/reviews',
    message: 'Referenced host+subset in destinationrule not found: "reviews+v9"',
    documentationUrl: 'https://istio.io/latest/docs/reference/config/analysis/ist0101/',
  }]);
  const y = await mesh.weft(['analyze', '-n', 'shop', '-o', 'yaml']);
  assert.equal(y.code, 0, y.stderr);
  assert.deepEqual(parse(y.stdout), JSON.parse(j.stdout));
  const bad = await mesh.weft(['analyze', '-o', 'table']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--output: expected log, json or yaml/);
});

test('-f analyzes a file with the stored config, as if applied, and stores nothing', async () => {
  // The file defines the missing subset: with it, the shop namespace is clean.
  const fix = join(dir, 'fix.yaml');
  await writeFile(fix, reviews('shop').replace('subsets: [{ name: v1, labels: { version: v1 } }]', 'subsets: [{ name: v1, labels: { version: v1 } }, { name: v9, labels: { version: v1 } }]'));
  const fixed = await mesh.weft(['analyze', '-n', 'shop', '-f', fix]);
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.equal(fixed.stderr, `\u2714 No validation issues found when analyzing ${fix}.\n`);
  const still = await mesh.weft(['analyze', '-n', 'shop']);
  assert.equal(still.code, 79, 'the file was not applied');
  // A file's problems are reported with the file's name.
  const broken = await mesh.weft(['analyze', '-n', 'shop', '-f', '-'], routeTo('shop', 'v1', 'ratings'));
  assert.equal(broken.code, 79);
  assert.equal(broken.stdout, [
    'Error [IST0101] (VirtualService shop/reviews stdin) Referenced host not found: "ratings"',
    'Error [IST0101] (VirtualService shop/reviews stdin) Referenced host+subset in destinationrule not found: "ratings+v1"',
  ].join('\n') + '\n');
});

test('an invalid resource in a file is a schema error (IST0106); a document that is no resource exits 65', async () => {
  const invalid = routeTo('shop', 'v1').replace('hosts: [reviews]', 'hosts: ["a.*.b"]');
  const r = await mesh.weft(['analyze', '-n', 'shop', '-f', '-'], invalid);
  assert.equal(r.code, 79);
  assert.equal(r.stdout, 'Error [IST0106] (VirtualService shop/reviews stdin) Schema validation error: spec.hosts[0]: "a.*.b" is not a valid host name (label "*" is invalid)\n');
  const garbage = await mesh.weft(['analyze', '-n', 'clean', '-f', '-'], 'kind: [unclosed');
  assert.equal(garbage.code, 65);
  assert.match(garbage.stderr, /^Error: stdin document 1: YAML syntax error/m);
  assert.match(garbage.stderr, /No validation issues found when analyzing stdin \(but 1 document could not be parsed\)\./);
});

test('analyze has --help and is listed by weft --help', async () => {
  const r = await mesh.weft(['analyze', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: weft analyze/);
  const top = await mesh.weft(['--help']);
  assert.match(top.stdout, /^ {2}analyze {9}/m);
});
