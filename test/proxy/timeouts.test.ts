// Route timeouts with retries: per_try_timeout bounds each attempt (and is a retriable reset), the route
// timeout spans every attempt and the back-off between them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { slowMs, startScriptedUpstream, type ScriptedUpstream } from './support/scripted-upstream.ts';

const harness = new Harness();
let scripted: ScriptedUpstream;
let port = 0;
let nextId = 0;

const ms = (n: number) => ({ seconds: String(Math.floor(n / 1000)), nanos: (n % 1000) * 1_000_000 });
const fast = { retry_back_off: { base_interval: ms(1) } };

/** One cluster per route, all on the scripted upstream, so each test reads its own stats. */
const cases: [string, Record<string, unknown>][] = [
  ['per-try-then-success', { timeout: ms(5000), retry_policy: { ...fast, retry_on: '5xx', per_try_timeout: ms(100) } }],
  ['route-timeout-spans-retries', { timeout: ms(400), retry_policy: { ...fast, retry_on: '5xx', num_retries: { value: 20 }, per_try_timeout: ms(100) } }],
  ['per-try-only', { timeout: ms(5000), retry_policy: { per_try_timeout: ms(100) } }],
  ['per-try-not-below-route-timeout', { timeout: ms(200), retry_policy: { ...fast, retry_on: '5xx', per_try_timeout: ms(1000) } }],
  ['per-try-connect-failure-only', { timeout: ms(5000), retry_policy: { ...fast, retry_on: 'connect-failure', per_try_timeout: ms(100) } }],
  ['per-try-reset', { timeout: ms(5000), retry_policy: { ...fast, retry_on: 'reset', per_try_timeout: ms(100) } }],
  ['back-off-spanned', { timeout: ms(300), retry_policy: { retry_on: '5xx', num_retries: { value: 20 }, retry_back_off: { base_interval: ms(200), max_interval: ms(200) } } }],
];

before(async () => {
  scripted = await startScriptedUpstream('scripted');
  await harness.apply({
    clusters: cases.map(([name]) => staticCluster(name, [scripted.port])),
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], cases.map(([name, action]) => route({ prefix: `/${name}` }, routeTo(name, action))))])],
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  await scripted.close();
});

async function scriptedRequest(path: string, mode: string, times: number): Promise<{ reply: Reply; attempts: number; elapsedMs: number }> {
  const id = `t${++nextId}`;
  const start = performance.now();
  const reply = await send(port, path, { headers: { 'x-test-id': id, 'x-fail': mode, 'x-fail-times': String(times) } });
  return { reply, attempts: scripted.attempts.get(id) ?? 0, elapsedMs: performance.now() - start };
}

const metric = (name: string, cluster: string) => harness.metric(name, { envoy_cluster_name: cluster });

describe('per_try_timeout', () => {
  it('abandons a slow attempt after the per-try timeout and retries it (5xx), well within the route timeout', async () => {
    const { reply, attempts, elapsedMs } = await scriptedRequest('/per-try-then-success', 'slow', 1);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(attempts, 2);
    assert.ok(elapsedMs < slowMs, `took ${elapsedMs} ms; the slow attempt answers after ${slowMs} ms`);
    assert.equal(await metric('envoy_cluster_upstream_rq_per_try_timeout', 'per-try-then-success'), 1);
    assert.equal(await metric('envoy_cluster_upstream_rq_retry', 'per-try-then-success'), 1);
    assert.equal(await metric('envoy_cluster_upstream_rq_timeout', 'per-try-then-success'), 0);
  });

  it('answers 504 "upstream request timeout" when the attempt times out and retry_on does not cover it', async () => {
    for (const name of ['per-try-only', 'per-try-connect-failure-only']) {
      const { reply, attempts } = await scriptedRequest(`/${name}`, 'slow', 1);
      assert.equal(reply.status, 504, name);
      assert.equal(reply.body, 'upstream request timeout');
      assert.equal(attempts, 1, name);
      assert.equal(await metric('envoy_cluster_upstream_rq_per_try_timeout', name), 1);
      assert.equal(await harness.metric('envoy_cluster_upstream_rq', { envoy_cluster_name: name, envoy_response_code: '504' }), 1);
    }
  });

  it('retries a per-try timeout under reset', async () => {
    const { reply, attempts } = await scriptedRequest('/per-try-reset', 'slow', 1);
    assert.equal(reply.status, 200);
    assert.equal(attempts, 2);
  });

  it('ignores a per-try timeout that is not below the route timeout', async () => {
    const { reply, attempts } = await scriptedRequest('/per-try-not-below-route-timeout', 'slow', 1);
    assert.equal(reply.status, 504);
    assert.equal(attempts, 1);
    assert.equal(await metric('envoy_cluster_upstream_rq_per_try_timeout', 'per-try-not-below-route-timeout'), 0);
    assert.equal(await metric('envoy_cluster_upstream_rq_timeout', 'per-try-not-below-route-timeout'), 1);
  });
});

describe('the route timeout with retries', () => {
  it('covers every attempt: retries stop and the request gets 504 when it fires', async () => {
    const { reply, attempts, elapsedMs } = await scriptedRequest('/route-timeout-spans-retries', 'slow', 100);
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'upstream request timeout');
    assert.ok(attempts >= 2 && attempts < 21, `${attempts} attempts`);
    assert.ok(elapsedMs < slowMs, `took ${elapsedMs} ms`);
    assert.equal(await metric('envoy_cluster_upstream_rq_timeout', 'route-timeout-spans-retries'), 1);
    assert.equal(await metric('envoy_cluster_upstream_rq_active', 'route-timeout-spans-retries'), 0);
  });

  it('covers the back-off between attempts', async () => {
    // Every attempt fails at once; 20 back-offs of up to 200 ms each far outlast the 300 ms route timeout.
    const { reply, attempts } = await scriptedRequest('/back-off-spanned', '503', 100);
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'upstream request timeout');
    assert.ok(attempts >= 1 && attempts < 21, `${attempts} attempts`);
    assert.equal(await metric('envoy_cluster_upstream_rq_timeout', 'back-off-spanned'), 1);
  });
});
