// Mirroring on live traffic: the mirror receives a copy of every request (its Host with -shadow), its
// responses are dropped, and a mirror that takes 5 s does not slow the client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, requests, tally, type Client, type Workload } from './scenario.ts';

let s: Scenario;
let client: Client;
let mirror: Workload;
const web = () => httpCall(client.outboundPort, '/', { host: 'web:8080' });

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.workload({ service: 'web' });
  mirror = await s.workload({ service: 'mirror' });
  client = await s.client();
  await s.applyFile('mirror.yaml');
  await waitFor('the mirror receives copies', async () => {
    await web();
    return (await mirror.served()) > 0;
  });
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

/** The mirror's count once copies of earlier requests (sent fire-and-forget) have stopped arriving. */
async function settledCount(): Promise<number> {
  let last = await mirror.served();
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await mirror.served();
    if (now === last) return now;
    last = now;
  }
  return last;
}

test('the mirror receives a copy of each request and the client only sees the main response', async () => {
  const before = await settledCount();
  const replies = await requests(50, 5, web);
  assert.deepEqual(tally(replies), { 'web-v1': 50 });
  await waitFor('50 copies arrived', async () => (await mirror.served()) - before >= 50);
  assert.equal((await mirror.served()) - before, 50, 'exactly one copy per request');
});

test('a mirror that takes 5 s does not slow the client', async () => {
  await mirror.control({ delayMs: 5000 });
  try {
    const started = performance.now();
    const replies = await requests(10, 5, web);
    const elapsed = performance.now() - started;
    assert.deepEqual(tally(replies), { 'web-v1': 10 });
    assert.ok(elapsed < 5000, `the client did not wait for the mirror (${Math.round(elapsed)} ms for 10 requests)`);
  } finally {
    await mirror.control({ delayMs: 0 });
  }
});
