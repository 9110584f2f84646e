// Timeouts, retries and fault injection on live traffic: a 7 s route timeout turns a 10 s upstream
// delay into 504 at about 7 s; 3 retries on 5xx hide an upstream that fails every second request; a
// 50% abort fault answers about half of 400 requests with 503; a delay fault holds requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, requests, type Client, type Workload } from './scenario.ts';

let s: Scenario;
let client: Client;
let backend: Workload;
const web = (path: string) => httpCall(client.outboundPort, path, { host: 'web:8080' });

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  backend = await s.workload({ service: 'web' });
  client = await s.client();
  await s.applyFile('resilience.yaml');
  await waitFor('the fault route is in force', async () => (await requests(10, 2, () => web('/abort'))).some((r) => r.status === 503));
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('a 7 s timeout turns a 10 s upstream delay into 504 at about 7 s', async () => {
  await backend.control({ delayMs: 10_000 });
  try {
    const started = performance.now();
    const r = await web('/slow');
    const elapsed = performance.now() - started;
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.ok(elapsed >= 7000, `not before the timeout (${Math.round(elapsed)} ms)`);
    assert.ok(elapsed < 10_000, `before the upstream would have answered (${Math.round(elapsed)} ms)`);
  } finally {
    await backend.control({ delayMs: 0 });
  }
});

test('retries recover from an upstream that fails every second request', async () => {
  await backend.control({ failStatus: 500, failEvery: 2 });
  try {
    const before = await backend.served();
    const replies = await requests(40, 1, () => web('/flaky'));
    assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => r.status), [], 'every request succeeds');
    const attempts = (await backend.served()) - before;
    assert.ok(attempts > 40 && attempts <= 80, `the failures were retried: ${attempts} attempts for 40 requests`);
    const plain = await requests(40, 1, () => web('/'));
    assert.ok(plain.filter((r) => r.status === 500).length >= 10, 'without the retry policy the failures show');
  } finally {
    await backend.control({ failStatus: 0, failEvery: 1 });
  }
});

test('an abort fault at 50% answers 503 to about half of 400 requests', async () => {
  const replies = await requests(400, 8, () => web('/abort'));
  const aborted = replies.filter((r) => r.status === 503).length;
  assert.equal(replies.filter((r) => r.status === 200).length + aborted, 400);
  assert.ok(aborted >= 160 && aborted <= 240, `50% ±10% aborted: ${aborted} of 400`);
  assert.ok(replies.filter((r) => r.status === 503).every((r) => r.body === 'fault filter abort'));
});

test('a delay fault holds the request for its fixed delay', async () => {
  const started = performance.now();
  const r = await web('/delay');
  assert.equal(r.status, 200);
  assert.ok(performance.now() - started >= 1000, 'held for at least the fixed delay');
});
