// The `weft` CLI against a real control plane process: apply, get, delete, errors, --help.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { Mesh, weftBin } from '../harness/mesh.ts';
import { assertNoLeakedProcesses } from '../harness/process.ts';

let mesh: Mesh;
before(async () => { mesh = await Mesh.start(); });
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

const se = (name: string) => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: ${name}, namespace: shop }
spec:
  hosts: [${name}.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
`;

test('apply stores every resource of a multi-document file and reports created, configured, unchanged', async () => {
  const first = await mesh.weft(['apply', '-f', '-'], `${se('cart')}---\n${se('pay')}`);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'serviceentry/cart created (namespace shop)\nserviceentry/pay created (namespace shop)\n');
  const again = await mesh.weft(['apply', '-f', '-'], se('cart'));
  assert.equal(again.stdout, 'serviceentry/cart unchanged (namespace shop)\n');
  const changed = await mesh.weft(['apply', '-f', '-'], se('cart').replace('number: 80', 'number: 8080'));
  assert.equal(changed.stdout, 'serviceentry/cart configured (namespace shop)\n');
});

test('get lists resources as a table, and one resource as YAML or JSON', async () => {
  const tableOut = await mesh.weft(['get', 'se', '-n', 'shop']);
  assert.equal(tableOut.code, 0, tableOut.stderr);
  assert.match(tableOut.stdout, /^NAMESPACE\s+NAME\s+VERSION\n/);
  assert.match(tableOut.stdout, /shop\s+cart\s+\d+/);
  assert.match(tableOut.stdout, /shop\s+pay\s+\d+/);
  const y = await mesh.weft(['get', 'serviceentry', 'cart', '-n', 'shop', '-o', 'yaml']);
  const doc = parse(y.stdout);
  assert.equal(doc.kind, 'ServiceEntry');
  assert.deepEqual(doc.spec.ports, [{ number: 8080, name: 'http', protocol: 'HTTP' }]);
  const j = JSON.parse((await mesh.weft(['get', 'ServiceEntries', 'pay', '-n', 'shop', '-o', 'json'])).stdout);
  assert.equal(j.metadata.name, 'pay');
  const missing = await mesh.weft(['get', 'se', 'nope', '-n', 'shop']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /ServiceEntry nope not found/);
});

test('an invalid file is refused whole: non-zero exit, the field path, nothing stored', async () => {
  const bad = `${se('ok')}---\n${se('broken').replace('number: 80', 'number: 99999')}`;
  const r = await mesh.weft(['apply', '-f', '-'], bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /document 2: ServiceEntry shop\/broken: spec\.ports\[0\]\.number: /);
  const list = await mesh.weft(['get', 'se', 'ok', '-n', 'shop']);
  assert.notEqual(list.code, 0, 'the valid document of a refused file is not stored either');
  const garbage = await mesh.weft(['apply', '-f', '-'], 'kind: [unclosed');
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /document 1/);
});

test('delete removes by kind and name, and by file', async () => {
  const r = await mesh.weft(['delete', 'se', 'pay', '-n', 'shop']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'serviceentry/pay deleted (namespace shop)\n');
  const gone = await mesh.weft(['delete', 'se', 'pay', '-n', 'shop']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /ServiceEntry shop\/pay: not found/);
  const byFile = await mesh.weft(['delete', '-f', '-'], se('cart'));
  assert.equal(byFile.stdout, 'serviceentry/cart deleted (namespace shop)\n');
});

test('every command has --help, and unknown commands and flags are usage errors', () => {
  for (const cmd of ['control-plane', 'proxy', 'apply', 'get', 'delete', 'proxy-status', 'analyze']) {
    const r = spawnSync(process.execPath, [weftBin, cmd, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: weft ${cmd}`));
  }
  const top = spawnSync(process.execPath, [weftBin, '--help'], { encoding: 'utf8' });
  assert.match(top.stdout, /proxy-status/);
  const unknown = spawnSync(process.execPath, [weftBin, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badFlag = spawnSync(process.execPath, [weftBin, 'get', 'vs', '--bogus'], { encoding: 'utf8' });
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /--bogus/);
});

test('the CLI says clearly when the control plane cannot be reached', () => {
  const r = spawnSync(process.execPath, [weftBin, 'get', 'vs', '--server', 'http://127.0.0.1:1'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot reach the control plane at http:\/\/127\.0\.0\.1:1/);
});

test('apply stores valid config that is not honoured yet, and says so as a warning', async () => {
  const r = await mesh.weft(['apply', '-f', '-'], `${se('cart')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: cart, namespace: shop }
spec:
  host: cart
  trafficPolicy:
    tls: { mode: SIMPLE, credentialName: cart-secret }
`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /destinationrule\/cart created/);
  assert.match(r.stderr, /^Warning: DestinationRule shop\/cart: trafficPolicy\.tls\.credentialName: not applied by this version of Weft/m);
  await mesh.weft(['delete', 'dr', 'cart', '-n', 'shop']);
  await mesh.weft(['delete', 'se', 'cart', '-n', 'shop']);
});
