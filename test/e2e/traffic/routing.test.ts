// VirtualService routing on live traffic through two sidecars: header and query-parameter matches to a
// subset, regex redirect, direct response, rewrite with header operations, and a 90/10 → 0/100 weight
// shift under load with no failed request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, requests, tally, type Client } from './scenario.ts';

let s: Scenario;
let client: Client;
const web = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  httpCall(client.outboundPort, path, { host: 'web:8080', ...headers }, method);

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.workload({ service: 'web', version: 'v1' });
  await s.workload({ service: 'web', version: 'v2' });
  client = await s.client();
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('header-based routing sends end-user jason to subset v2 and everyone else to v1', async () => {
  await s.applyFile('header-routing.yaml');
  // Before the rules arrive either version may answer: wait until ten in a row go to v2.
  await waitFor('jason routed to v2', async () => {
    const seen = tally(await requests(10, 2, () => web('/', { 'end-user': 'jason' })));
    return seen['web-v2'] === 10;
  });
  const jason = await requests(20, 4, () => web('/', { 'end-user': 'jason' }));
  const others = await requests(20, 4, () => web('/', { 'end-user': 'mallory' }));
  assert.deepEqual(tally(jason), { 'web-v2': 20 });
  assert.deepEqual(tally(others), { 'web-v1': 20 });
  // Two matches in one rule are OR; the conditions inside one match are AND.
  assert.equal((await web('/beta?canary=yes')).headers['x-served-by'], 'web-v2');
  assert.equal((await web('/beta?canary=no')).headers['x-served-by'], 'web-v1');
});

test('redirect, direct response and rewrite with header operations', async () => {
  const redirect = await web('/old/42');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.location, 'http://web:8080/new');
  assert.equal((await web('/old/abc')).headers['x-served-by'], 'web-v1', 'the regex matches the whole path only');
  const teapot = await web('/teapot', {}, 'DELETE');
  assert.deepEqual([teapot.status, teapot.body], [418, 'short and stout']);
  assert.equal((await web('/teapot')).status, 200, 'the method is part of the match');
  const api = await web('/api/items');
  assert.equal(api.json.path, '/v1-api/items');
  assert.equal(api.json.headers['x-routed-by'], 'weft');
  assert.equal(api.headers['x-route'], 'api');
});

test('shifting 90/10 then 0/100 under load fails no request', async () => {
  await s.applyFile('shift-90-10.yaml');
  await waitFor('v2 takes a share', async () => tally(await requests(40, 4, () => web('/')))['web-v2'] !== undefined);
  const split = tally(await requests(400, 8, () => web('/')));
  assert.equal(split['web-v1'] + split['web-v2'], 400, `every request answered: ${JSON.stringify(split)}`);
  assert.ok(split['web-v2'] >= 20 && split['web-v2'] <= 65, `about 10% on v2: ${JSON.stringify(split)}`);

  let running = true;
  const during: Awaited<ReturnType<typeof web>>[] = [];
  const load = Promise.all(Array.from({ length: 4 }, async () => {
    while (running && during.length < 5000) during.push(await web('/'));
  }));
  await s.applyFile('shift-0-100.yaml');
  await waitFor('all traffic on v2', async () => tally(await requests(20, 4, () => web('/')))['web-v1'] === undefined);
  running = false;
  await load;
  assert.deepEqual(during.filter((r) => r.status !== 200).map((r) => r.status), [], 'no request failed during the shift');
  assert.deepEqual(tally(await requests(100, 8, () => web('/'))), { 'web-v2': 100 });
});
