// Route retries (Envoy's route.retry_policy / virtual_host.retry_policy) over HTTP/1.1: which failures
// are retried, how many times, to which endpoint, with which body, and what the stats say.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { startScriptedUpstream, type ScriptedReply, type ScriptedUpstream } from './support/scripted-upstream.ts';
import { closedPort, startUpstream, type Upstream } from './support/upstream.ts';

const harness = new Harness();
let scripted: ScriptedUpstream;
let always503: Upstream;
let always500: Upstream;
let good: Upstream;
let port = 0;
let nextId = 0;

/** A 1 ms back-off base keeps retries quick; the rest of the policy is the test's. */
const fast = { retry_back_off: { base_interval: { nanos: 1_000_000 } } };
const policy = (p: Record<string, unknown>) => ({ ...fast, ...p });
const previousHosts = {
  retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
  host_selection_retry_max_attempts: '3',
};

function routes(): object[] {
  const r = (prefix: string, cluster: string, retry: Record<string, unknown> | null) =>
    route({ prefix }, routeTo(cluster, retry === null ? {} : { retry_policy: policy(retry) }));
  return [routeConfig('routes', [
    virtualHost('vh-default', ['vh-default'], [
      r('/own', 'scripted', { retry_on: 'gateway-error', num_retries: { value: 1 } }),
      r('/', 'scripted', null),
    ]),
    virtualHost('all', ['*'], [
      r('/mixed', 'mixed', { retry_on: '5xx', num_retries: { value: 2 } }),
      r('/limit', 'only503', { retry_on: '5xx', num_retries: { value: 3 } }),
      r('/default-count', 'only503', { retry_on: '5xx' }),
      r('/no-retry-budget', 'no-retries', { retry_on: '5xx', num_retries: { value: 3 } }),
      r('/status-codes', 'scripted', { retry_on: 'retriable-status-codes', retriable_status_codes: [429], num_retries: { value: 2 } }),
      r('/5xx-on-429', 'scripted', { retry_on: '5xx', num_retries: { value: 2 } }),
      r('/gateway-500', 'only500', { retry_on: 'gateway-error', num_retries: { value: 1 } }),
      r('/5xx-500', 'only500', { retry_on: '5xx', num_retries: { value: 1 } }),
      r('/gateway-503', 'scripted', { retry_on: 'gateway-error', num_retries: { value: 1 } }),
      r('/connect', 'refused-mix', { retry_on: 'connect-failure', num_retries: { value: 1 }, ...previousHosts }),
      r('/reset', 'scripted', { retry_on: 'reset', num_retries: { value: 1 } }),
      r('/only-connect-failure', 'scripted', { retry_on: 'connect-failure', num_retries: { value: 1 } }),
      r('/5xx', 'scripted', { retry_on: '5xx', num_retries: { value: 1 } }),
      r('/grpc-unavailable', 'scripted', { retry_on: 'unavailable,cancelled', num_retries: { value: 1 } }),
      r('/grpc-cancelled', 'scripted', { retry_on: 'cancelled', num_retries: { value: 1 } }),
      r('/plain', 'scripted', null),
    ]),
  ], { validate_clusters: { value: false } })];
}

before(async () => {
  [scripted, always503, always500, good] = await Promise.all([
    startScriptedUpstream('scripted'),
    startUpstream('always503', (req, res) => { req.resume(); res.writeHead(503, { 'content-length': '3' }); res.end('503'); }),
    startUpstream('always500', (req, res) => { req.resume(); res.writeHead(500, { 'content-length': '3' }); res.end('500'); }),
    startUpstream('good'),
  ]);
  const refused = await closedPort();
  await harness.apply({
    clusters: [
      staticCluster('scripted', [scripted.port]),
      staticCluster('mixed', [always503.port, good.port]),
      staticCluster('only503', [always503.port]),
      staticCluster('only500', [always500.port]),
      staticCluster('no-retries', [always503.port], { circuit_breakers: { thresholds: [{ max_retries: { value: 0 } }] } }),
      // Round robin with weights 3:1 picks the refused endpoint up to three times in a row: only the
      // previous_hosts predicate (with 3 extra picks) keeps a retry off it.
      staticCluster('refused-mix', [{ port: refused, weight: 3 }, { port: good.port, weight: 1 }]),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: routes(),
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  await Promise.all([scripted.close(), always503.close(), always500.close(), good.close()]);
});

/** Sends a request the scripted upstream fails `times` times with `mode`; returns the reply and the attempts it saw. */
async function scriptedRequest(path: string, mode: string, times: number, options: { method?: string; body?: Buffer | string; host?: string } = {}): Promise<{ reply: Reply; attempts: number }> {
  const id = `r${++nextId}`;
  const reply = await send(port, path, { ...options, headers: { 'x-test-id': id, 'x-fail': mode, 'x-fail-times': String(times) } });
  return { reply, attempts: scripted.attempts.get(id) ?? 0 };
}

const c = (name: string) => ({ envoy_cluster_name: name });

describe('retry_on 5xx', () => {
  it('retries a 503 on the healthy endpoint of a cluster whose other endpoint always fails, and counts it', async () => {
    for (let i = 0; i < 6; i++) {
      const reply = await send(port, '/mixed');
      assert.equal(reply.status, 200, reply.body);
      assert.equal(JSON.parse(reply.body).upstream, 'good');
    }
    const failed = always503.count;
    assert.ok(failed >= 1 && failed <= 6, `the failing endpoint saw ${failed} attempts`);
    assert.equal(good.count, 6);
    // Stats after this known traffic: each 503 was retried once and the retry succeeded.
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_total', c('mixed')), 6 + failed);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry', c('mixed')), failed);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry_success', c('mixed')), failed);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry_overflow', c('mixed')), 0);
    assert.equal(await harness.metric('envoy_cluster_retry_upstream_rq', { ...c('mixed'), envoy_response_code: '503' }), failed);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { ...c('mixed'), envoy_response_code: '200' }), 6);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { ...c('mixed'), envoy_response_code: '503' }), undefined);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_active', c('mixed')), 0);
  });

  it('makes num_retries + 1 attempts, then forwards the last 503 (retry limit exceeded)', async () => {
    const before = always503.count;
    const reply = await send(port, '/limit');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, '503');
    assert.equal(always503.count - before, 4);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry_limit_exceeded', c('only503')), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry', c('only503')), 3);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { ...c('only503'), envoy_response_code: '503' }), 1);
  });

  it('retries once when num_retries is not set', async () => {
    const before = always503.count;
    assert.equal((await send(port, '/default-count')).status, 503);
    assert.equal(always503.count - before, 2);
  });

  it('retries a POST with a small body, sending the same body again', async () => {
    const body = randomBytes(200 * 1024);
    const { reply, attempts } = await scriptedRequest('/5xx', '503', 1, { method: 'POST', body });
    assert.equal(reply.status, 200, reply.body);
    const seen = JSON.parse(reply.body) as ScriptedReply;
    assert.equal(attempts, 2);
    assert.equal(seen.attempt, 2);
    assert.equal(seen.bodyLength, body.length);
    assert.equal(seen.bodySha256, createHash('sha256').update(body).digest('hex'));
  });

  it('does not retry a 2 MiB upload (beyond the 1 MiB retry buffer): the 503 is forwarded', async () => {
    const { reply, attempts } = await scriptedRequest('/5xx', '503', 1, { method: 'POST', body: randomBytes(2 * 1024 * 1024) });
    assert.equal(reply.status, 503);
    assert.equal(attempts, 1);
  });

  it('never retries once the response has started downstream', async () => {
    const id = `r${++nextId}`;
    await assert.rejects(send(port, '/5xx', { headers: { 'x-test-id': id, 'x-fail': 'partial', 'x-fail-times': '1' } }));
    assert.equal(scripted.attempts.get(id), 1);
  });

  it('retries an upstream reset (the connection closed before the response) under 5xx', async () => {
    const { reply, attempts } = await scriptedRequest('/5xx', 'reset', 1);
    assert.equal(reply.status, 200);
    assert.equal(attempts, 2);
  });
});

describe('other retry conditions', () => {
  it('retriable-status-codes retries the listed codes; 5xx does not retry a 429', async () => {
    const listed = await scriptedRequest('/status-codes', '429', 5);
    assert.equal(listed.reply.status, 429);
    assert.equal(listed.attempts, 3);
    const recovered = await scriptedRequest('/status-codes', '429', 1);
    assert.equal(recovered.reply.status, 200);
    assert.equal(recovered.attempts, 2);
    const other = await scriptedRequest('/5xx-on-429', '429', 1);
    assert.equal(other.reply.status, 429);
    assert.equal(other.attempts, 1);
  });

  it('gateway-error retries 502/503/504 but not a 500, which 5xx retries', async () => {
    let before = always500.count;
    assert.equal((await send(port, '/gateway-500')).status, 500);
    assert.equal(always500.count - before, 1);
    before = always500.count;
    assert.equal((await send(port, '/5xx-500')).status, 500);
    assert.equal(always500.count - before, 2);
    const gateway = await scriptedRequest('/gateway-503', '503', 1);
    assert.equal(gateway.reply.status, 200);
    assert.equal(gateway.attempts, 2);
  });

  it('connect-failure with previous_hosts retries a refused connection on the other endpoint', async () => {
    const before = good.count;
    for (let i = 0; i < 8; i++) {
      const reply = await send(port, '/connect');
      assert.equal(reply.status, 200, reply.body);
    }
    assert.equal(good.count - before, 8);
    assert.ok((await harness.metric('envoy_cluster_upstream_cx_connect_fail', c('refused-mix')))! >= 4);
  });

  it('reset retries an upstream that closes the connection; connect-failure alone does not', async () => {
    const reset = await scriptedRequest('/reset', 'reset', 1);
    assert.equal(reset.reply.status, 200);
    assert.equal(reset.attempts, 2);
    const notRetried = await scriptedRequest('/only-connect-failure', 'reset', 1);
    assert.equal(notRetried.reply.status, 503);
    assert.match(notRetried.reply.body, /connection termination/);
    assert.equal(notRetried.attempts, 1);
  });

  it('retries a grpc-status 14 (unavailable) response header under unavailable, not under cancelled', async () => {
    const retried = await scriptedRequest('/grpc-unavailable', 'grpc-unavailable', 1);
    assert.equal(retried.reply.status, 200);
    assert.equal(retried.attempts, 2);
    const forwarded = await scriptedRequest('/grpc-cancelled', 'grpc-unavailable', 1);
    assert.equal(forwarded.reply.status, 200);
    assert.equal(forwarded.reply.headers['grpc-status'], '14');
    assert.equal(forwarded.attempts, 1);
  });

  it('does not retry on a route without a retry policy', async () => {
    const { reply, attempts } = await scriptedRequest('/plain', '503', 1);
    assert.equal(reply.status, 503);
    assert.equal(attempts, 1);
  });

  it("uses the virtual host's policy for routes without one, and a route's own policy replaces it whole", async () => {
    harness.dataPlane.updateRoutes([routeConfig('routes', [
      { ...virtualHost('vh-default', ['vh-default'], [
        route({ prefix: '/own' }, routeTo('scripted', { retry_policy: policy({ retry_on: 'gateway-error' }) })),
        route({ prefix: '/' }, routeTo('scripted')),
      ]), retry_policy: policy({ retry_on: '5xx', num_retries: { value: 2 } }) },
      ...(routes()[0] as { virtual_hosts: Record<string, unknown>[] }).virtual_hosts.slice(1),
    ])]);
    try {
      const inherited = await scriptedRequest('/x', '500', 2, { host: 'vh-default' });
      assert.equal(inherited.reply.status, 200);
      assert.equal(inherited.attempts, 3);
      const own = await scriptedRequest('/own', '500', 1, { host: 'vh-default' });
      assert.equal(own.reply.status, 500);
      assert.equal(own.attempts, 1);
    } finally {
      harness.dataPlane.updateRoutes(routes());
    }
  });
});

describe('the cluster retry circuit breaker', () => {
  it('does not retry beyond max_retries (0 here) and counts the overflow', async () => {
    const before = always503.count;
    const reply = await send(port, '/no-retry-budget');
    assert.equal(reply.status, 503);
    assert.equal(always503.count - before, 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry_overflow', c('no-retries')), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry', c('no-retries')), 0);
  });
});

describe('retry policy config', () => {
  const withPolicy = (retryPolicy: Record<string, unknown>) =>
    [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('scripted', { retry_policy: retryPolicy }))])])];
  const at = 'RouteConfiguration routes: virtual_hosts\\[0\\]\\.routes\\[0\\]\\.route\\.retry_policy';
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['retriable_headers', { retry_on: '5xx', retriable_headers: [{ name: 'x-retry' }] }, new RegExp(`^${at}\\.retriable_headers is not supported`)],
    ['rate_limited_retry_back_off', { retry_on: '5xx', rate_limited_retry_back_off: { reset_headers: [] } }, /retry_policy\.rate_limited_retry_back_off is not supported/],
    ['retry_options_predicates', { retry_on: '5xx', retry_options_predicates: [{ name: 'example' }] }, /retry_policy\.retry_options_predicates is not supported/],
    ['a retry_on value it does not know', { retry_on: '5xx,sometimes' }, /retry_policy\.retry_on sometimes is not a known retry condition/],
    ['retry_on retriable-headers', { retry_on: 'retriable-headers' }, /retry_policy\.retry_on retriable-headers is not supported/],
    ['another host predicate', { retry_on: '5xx', retry_host_predicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts' }] },
      /retry_policy\.retry_host_predicate\[0\] envoy\.retry_host_predicates\.omit_canary_hosts is not supported/],
    ['a max_interval below the base_interval', { retry_on: '5xx', retry_back_off: { base_interval: { seconds: '1' }, max_interval: { nanos: 5_000_000 } } },
      /retry_back_off\.max_interval must be greater than or equal to the base_interval/],
  ];
  for (const [what, retryPolicy, message] of cases) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => harness.dataPlane.updateRoutes(withPolicy(retryPolicy)), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('rejects a route idle_timeout', () => {
    assert.throws(() => harness.dataPlane.updateRoutes([routeConfig('routes', [virtualHost('all', ['*'], [
      route({ prefix: '/' }, routeTo('scripted', { idle_timeout: { seconds: '5' } }))])])]), /route\.idle_timeout is not supported/);
  });

  it('accepts the previous_hosts predicate as an Any the decoder could not unpack ({type_url, value})', async () => {
    harness.dataPlane.updateRoutes(withPolicy({
      retry_on: '5xx',
      retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts',
        typed_config: { type_url: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate', value: Buffer.alloc(0) } }],
    }));
    harness.dataPlane.updateRoutes(routes());
    assert.equal((await send(port, '/mixed')).status, 200);
  });
});
