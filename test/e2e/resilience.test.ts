// Static stability and bad input: invalid config never reaches the store or a proxy; proxies keep
// serving when the control plane dies; a restarted control plane has its config and proxies resync;
// a proxy that NACKs keeps its previous config and the NACK shows in proxy-status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses, stopProcess, waitFor } from '../harness/process.ts';
import { reviewsSplit } from '../../examples/bookinfo/reviews-split.ts';
import { startBookinfo, type Bookinfo } from '../../examples/bookinfo/topology.ts';
import { countBy, send } from './traffic.ts';

let mesh: Mesh;
let bookinfo: Bookinfo;
let entry: number;

async function configVersion(adminPort: number): Promise<string> {
  const dump = await (await fetch(`http://127.0.0.1:${adminPort}/config_dump`)).json() as any;
  return dump.configs.routes.version_info;
}

async function allSynced(): Promise<boolean> {
  const r = await mesh.weft(['proxy-status', '-o', 'json']);
  if (r.code !== 0) return false;
  const { proxies } = JSON.parse(r.stdout);
  return proxies.length === 4 && proxies.every((p: any) => p.types.length >= 4 && p.types.every((t: any) => t.state === 'SYNCED'));
}

before(async () => {
  mesh = await Mesh.start({ controlPlaneArgs: ['--registration-grace-ms', '60000'] });
  bookinfo = await startBookinfo(mesh, ['v1', 'v2']);
  entry = bookinfo.productpage.proxy.ready.inbound[0].port;
  await mesh.apply(reviewsSplit(0, 100));
  await waitFor('all requests on v2', async () => (await send(entry, 5)).every((o) => o.version === 'v2'));
  await waitFor('every proxy SYNCED', allSynced);
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

test('invalid YAML is refused with the field path; the store and the proxies keep their config', async () => {
  const before = await mesh.weft(['get', 'virtualservice', 'reviews', '-o', 'json']);
  const routesBefore = await configVersion(bookinfo.productpage.proxy.ready.adminPort);
  const bad = reviewsSplit(0, 100).replace('weight: 100', 'weight: 150');
  const r = await mesh.weft(['apply', '-f', '-'], bad);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /VirtualService default\/reviews: spec\.http\[0\]\.route\[1\]\.weight: must be an integer 0\.\.100/);
  const unknownField = await mesh.weft(['apply', '-f', '-'], reviewsSplit(0, 100).replace('  http:', '  htp:'));
  assert.notEqual(unknownField.code, 0);
  assert.match(unknownField.stderr, /VirtualService default\/reviews: spec\.htp: unknown field/);
  const after = await mesh.weft(['get', 'virtualservice', 'reviews', '-o', 'json']);
  assert.equal(after.stdout, before.stdout, 'the stored VirtualService is unchanged');
  assert.equal(await configVersion(bookinfo.productpage.proxy.ready.adminPort), routesBefore, 'the proxy kept its routes');
  assert.deepEqual(countBy(await send(entry, 20)), { v2: 20 });
});

test('a proxy that NACKs keeps serving its previous config and proxy-status shows NACKED with its reason', async () => {
  // RE2's ungreedy flag (?U) is valid Istio (the control plane accepts it) but has no JavaScript
  // equivalent, so the sidecars refuse the routes that use it.
  const ungreedy = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { regex: "(?U)/reviews/.+" } }]
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route: [{ destination: { host: reviews, subset: v2 } }]
`;
  await mesh.apply(ungreedy);
  const status = await waitFor('a NACK in proxy-status', async () => {
    const r = await mesh.weft(['proxy-status']);
    return /NACKED/.test(r.stdout) ? r.stdout : false;
  });
  assert.match(status, /[a-z0-9-]+\.default RDS NACKED: RouteConfiguration outbound_http: .*ungreedy/);
  assert.deepEqual(countBy(await send(entry, 20)), { v2: 20 }, 'traffic keeps flowing on the previous config');
  // Putting back a config the proxy supports brings it back in sync.
  await mesh.apply(reviewsSplit(0, 100));
  await waitFor('every proxy SYNCED again', allSynced);
});

test('with the control plane killed, traffic flows on the last config; restarted, it has the config and proxies resync', async () => {
  await stopProcess(mesh.controlPlane, 'SIGKILL');
  const during = await send(entry, 50);
  assert.deepEqual(countBy(during), { v2: 50 }, 'sidecars keep serving without the control plane');
  await mesh.startControlPlane();
  const vs = await mesh.weft(['get', 'vs', 'reviews', '-o', 'json']);
  assert.equal(vs.code, 0, vs.stderr);
  assert.equal(JSON.parse(vs.stdout).spec.http[0].route[1].weight, 100);
  await waitFor('every proxy reconnected and SYNCED', allSynced, 20_000);
  // The restarted control plane drives the proxies: a new split takes effect.
  await mesh.apply(reviewsSplit(100, 0));
  await waitFor('all requests on v1 after the restart', async () => (await send(entry, 10)).every((o) => o.version === 'v1' && o.status === 200));
});
