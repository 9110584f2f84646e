// Request mirroring (Envoy's route.request_mirror_policies): fire-and-forget copies to a mirror cluster
// with `-shadow` appended to the Host, sampled by a fraction, never delaying or failing the main request;
// a mirror that falls behind on a large body is abandoned.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { shadowHost } from '../../src/proxy/http/routing/mirror-policy.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { startScriptedUpstream, type ScriptedReply, type ScriptedUpstream } from './support/scripted-upstream.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

type Mirrored = { id: string; method: string; url: string; host: string; bodyLength: number; bodySha256: string };

/** A mirror upstream that records what each request carried (read to the end), then answers 200. */
async function startRecordingUpstream(name: string): Promise<Upstream & { seen: Mirrored[] }> {
  const seen: Mirrored[] = [];
  const upstream = await startUpstream(name, (req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => { length += chunk.length; hash.update(chunk); });
    req.on('end', () => {
      seen.push({
        id: String(req.headers['x-test-id'] ?? ''), method: req.method!, url: req.url!, host: req.headers.host ?? '',
        bodyLength: length, bodySha256: hash.digest('hex'),
      });
      res.writeHead(200, { 'content-length': '6', 'x-from-mirror': name });
      res.end('mirror');
    });
  });
  return Object.assign(upstream, { seen });
}

const harness = new Harness();
let main: ScriptedUpstream;
let mirror: Awaited<ReturnType<typeof startRecordingUpstream>>;
let mirror2: Awaited<ReturnType<typeof startRecordingUpstream>>;
/** Receives requests and never answers (their responses are held until the test ends). */
let silent: Upstream;
const held: http.ServerResponse[] = [];
/** Resets every connection as soon as a request arrives. */
let resetting: Upstream;
/** Never reads the request body and never answers. */
let slow: Upstream;
let port = 0;
let nextId = 0;

const c = (name: string) => ({ envoy_cluster_name: name });
const mirrorTo = (cluster: string, fraction?: { numerator: number; denominator?: string }) =>
  ({ cluster, ...(fraction ? { runtime_fraction: { default_value: fraction } } : {}) });

function routes(extra: Record<string, unknown> = {}): object[] {
  const r = (prefix: string, policies: object[], more: Record<string, unknown> = {}) =>
    route({ prefix }, routeTo('main', { request_mirror_policies: policies, ...more }));
  return [routeConfig('routes', [virtualHost('all', ['*'], [
    r('/all', [mirrorTo('mirror')]),
    r('/none', [mirrorTo('mirror', { numerator: 0 })]),
    r('/half', [mirrorTo('mirror', { numerator: 5000, denominator: 'TEN_THOUSAND' })]),
    r('/silent', [mirrorTo('silent')], { timeout: { seconds: '30' } }),
    r('/reset', [mirrorTo('resetting', { numerator: 100, denominator: 'HUNDRED' })]),
    r('/missing', [mirrorTo('nowhere'), mirrorTo('mirror')]),
    r('/two', [mirrorTo('mirror'), mirrorTo('mirror2', { numerator: 1_000_000, denominator: 'MILLION' })]),
    r('/large', [mirrorTo('slow')]),
    r('/retried', [mirrorTo('mirror')], { retry_policy: { retry_on: '5xx', num_retries: { value: 1 }, retry_back_off: { base_interval: { nanos: 1_000_000 } } } }),
    r('/rewritten', [mirrorTo('mirror')], { prefix_rewrite: '/inner', host_rewrite_literal: 'details:9080' }),
    route({ prefix: '/' }, routeTo('main')),
  ])], { validate_clusters: { value: false }, ...extra })];
}

before(async () => {
  [main, mirror, mirror2, silent, resetting, slow] = await Promise.all([
    startScriptedUpstream('main'),
    startRecordingUpstream('mirror'),
    startRecordingUpstream('mirror2'),
    startUpstream('silent', (req, res) => { req.resume(); held.push(res); }),
    startUpstream('resetting', (req) => { req.socket.destroy(); }),
    startUpstream('slow', () => { /* reads nothing, answers nothing */ }),
  ]);
  await harness.apply({
    clusters: [
      staticCluster('main', [main.port]),
      staticCluster('mirror', [mirror.port]),
      staticCluster('mirror2', [mirror2.port]),
      staticCluster('silent', [silent.port]),
      staticCluster('resetting', [resetting.port]),
      staticCluster('slow', [slow.port]),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: routes(),
  });
  port = harness.port();
});

after(async () => {
  for (const res of held) res.destroy();
  await harness.close();
  await Promise.all([main.close(), mirror.close(), mirror2.close(), silent.close(), resetting.close(), slow.close()]);
});

const id = () => `m${++nextId}`;
const seenBy = (upstream: { seen: Mirrored[] }, testId: string) => upstream.seen.filter((s) => s.id === testId);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Waits until `upstream` recorded the mirror copy of request `testId`. */
function mirroredCopy(upstream: { seen: Mirrored[] }, testId: string): Promise<Mirrored[]> {
  return waitFor(`the mirror copy of ${testId}`, () => seenBy(upstream, testId), (s) => s.length > 0);
}

describe('request mirroring', () => {
  it('sends a copy of every request (same method, path and body; Host with -shadow) and answers with the main upstream', async () => {
    const testId = id();
    const body = 'the request body';
    const reply = await send(port, '/all?x=1', { method: 'POST', host: 'reviews:9080', body, headers: { 'x-test-id': testId } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as ScriptedReply;
    assert.equal(seen.upstream, 'main');
    assert.equal(seen.bodySha256, sha256(body));
    assert.equal(reply.headers['x-from-mirror'], undefined);
    const [copy] = await mirroredCopy(mirror, testId);
    assert.deepEqual(copy, { id: testId, method: 'POST', url: '/all?x=1', host: 'reviews-shadow:9080', bodyLength: body.length, bodySha256: sha256(body) });
    await waitFor('the mirror copy counted', () => harness.metric('envoy_cluster_upstream_rq', { ...c('mirror'), envoy_response_code: '200' }), (v) => (v ?? 0) >= 1);
    assert.ok((await harness.metric('envoy_cluster_mirror_rq_total', c('mirror')))! >= 1);
    assert.ok((await harness.metric('envoy_cluster_upstream_rq_total', c('mirror')))! >= 1);
  });

  it('appends -shadow to a Host without a port, and mirrors the rewritten path and host', async () => {
    const testId = id();
    await send(port, '/all', { host: 'reviews', headers: { 'x-test-id': testId } });
    assert.equal((await mirroredCopy(mirror, testId))[0].host, 'reviews-shadow');
    const rewritten = id();
    await send(port, '/rewritten/x', { host: 'reviews:9080', headers: { 'x-test-id': rewritten } });
    const [copy] = await mirroredCopy(mirror, rewritten);
    assert.equal(copy.url, '/inner/x');
    assert.equal(copy.host, 'details-shadow:9080');
  });

  it('mirrors nothing at 0 %', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const testId = id();
      ids.push(testId);
      assert.equal((await send(port, '/none', { headers: { 'x-test-id': testId } })).status, 200);
    }
    // A mirrored request sent afterwards arrives on the same mirror: anything from before would have too.
    await send(port, '/all', { headers: { 'x-test-id': 'sentinel-0' } });
    await mirroredCopy(mirror, 'sentinel-0');
    assert.equal(mirror.seen.filter((s) => ids.includes(s.id)).length, 0);
  });

  it('mirrors about half of 200 requests at 5000/TEN_THOUSAND', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ids = new Set<string>();
    try {
      for (let i = 0; i < 200; i++) {
        const testId = id();
        ids.add(testId);
        assert.equal((await send(port, '/half', { agent, headers: { 'x-test-id': testId } })).status, 200);
      }
    } finally {
      agent.destroy();
    }
    await send(port, '/all', { headers: { 'x-test-id': 'sentinel-50' } });
    await mirroredCopy(mirror, 'sentinel-50');
    const mirrored = mirror.seen.filter((s) => ids.has(s.id)).length;
    // Binomial(200, 0.5): sd ~7; 60..140 is more than 5 sd either side.
    assert.ok(mirrored >= 60 && mirrored <= 140, `${mirrored} of 200 mirrored`);
  });

  it('sends a copy to each of two mirror policies', async () => {
    const testId = id();
    assert.equal((await send(port, '/two', { method: 'PUT', body: 'two', headers: { 'x-test-id': testId } })).status, 200);
    const [a] = await mirroredCopy(mirror, testId);
    const [b] = await mirroredCopy(mirror2, testId);
    assert.equal(a.bodySha256, sha256('two'));
    assert.equal(b.bodySha256, sha256('two'));
    assert.equal(b.method, 'PUT');
  });

  it('answers the main request while the mirror has not answered', async () => {
    const started = performance.now();
    const reply = await send(port, '/silent', { method: 'POST', body: 'x', headers: { 'x-test-id': id() } });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as ScriptedReply).upstream, 'main');
    await waitFor('the silent mirror to receive its copy', () => silent.count, (n) => n >= 1);
    // The mirror copy is still waiting for its response.
    assert.equal(held.length, 1);
    assert.equal(held[0].writableEnded, false);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_active', c('silent')), 1);
    assert.ok(performance.now() - started < 10_000);
  });

  it('answers the main request when the mirror resets the connection, and counts the mirror failure', async () => {
    const body = randomBytes(64 * 1024);
    const reply = await send(port, '/reset', { method: 'POST', body, headers: { 'x-test-id': id() } });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as ScriptedReply).bodySha256, sha256(body));
    assert.equal((await send(port, '/reset')).status, 200);
    await waitFor('the mirror resets counted', () => harness.metric('envoy_cluster_upstream_rq', { ...c('resetting'), envoy_response_code: '503' }),
      (v) => v === 2);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_active', c('resetting')), 0);
  });

  it('skips (and counts) a mirror policy whose cluster does not exist, still sending the others', async () => {
    const testId = id();
    const reply = await send(port, '/missing', { headers: { 'x-test-id': testId } });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as ScriptedReply).upstream, 'main');
    await mirroredCopy(mirror, testId);
    assert.equal(await harness.metric('envoy_http_mirror_no_cluster', { envoy_http_conn_manager_prefix: 'outbound' }), 1);
  });

  it('keeps the body of a retried request intact for the main request and the mirror', async () => {
    const testId = id();
    const body = randomBytes(100 * 1024);
    const reply = await send(port, '/retried', { method: 'POST', body, headers: { 'x-test-id': testId, 'x-fail': '503', 'x-fail-times': '1' } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as ScriptedReply;
    assert.equal(seen.attempt, 2);
    assert.equal(seen.bodySha256, sha256(body));
    const copies = await mirroredCopy(mirror, testId);
    assert.equal(copies.length, 1);
    assert.equal(copies[0].bodySha256, sha256(body));
  });

  it('does not hold a large POST back for a slow mirror, and abandons the mirror copy', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const reply = await send(port, '/large', { method: 'POST', body, headers: { 'x-test-id': id() } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as ScriptedReply;
    assert.equal(seen.bodyLength, body.length);
    assert.equal(seen.bodySha256, sha256(body));
    await waitFor('the mirror copy abandoned', () => harness.metric('envoy_cluster_mirror_rq_abandoned', c('slow')), (v) => v === 1);
    await waitFor('the abandoned mirror request finished', () => harness.metric('envoy_cluster_upstream_rq_active', c('slow')), (v) => v === 0);
  });
});

describe('mirror policy config', () => {
  const rejected = (message: RegExp) => (err: unknown) => err instanceof ConfigRejectedError && message.test(err.message);
  const withPolicy = (policy: object, extra: Record<string, unknown> = {}) =>
    [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('main', { request_mirror_policies: [policy] }))])], extra)];

  it('rejects a runtime_key, naming the field, and keeps serving', async () => {
    assert.throws(() => harness.dataPlane.updateRoutes(withPolicy({ cluster: 'mirror', runtime_fraction: { default_value: { numerator: 50 }, runtime_key: 'mirror.enabled' } })),
      rejected(/virtual_hosts\[0\]\.routes\[0\]\.route\.request_mirror_policies\[0\]\.runtime_fraction\.runtime_key is not supported/));
    assert.equal((await send(port, '/all')).status, 200);
  });

  it('rejects cluster_header, an unknown denominator and a missing default_value', () => {
    assert.throws(() => harness.dataPlane.updateRoutes(withPolicy({ cluster_header: 'x-mirror' })),
      rejected(/request_mirror_policies\[0\]\.cluster_header is not supported/));
    assert.throws(() => harness.dataPlane.updateRoutes(withPolicy({ cluster: 'mirror', runtime_fraction: { default_value: { numerator: 1, denominator: 'BILLION' } } })),
      rejected(/runtime_fraction\.default_value\.denominator BILLION is not one of HUNDRED, TEN_THOUSAND, MILLION/));
    assert.throws(() => harness.dataPlane.updateRoutes(withPolicy({ cluster: 'mirror', runtime_fraction: {} })),
      rejected(/runtime_fraction\.default_value is required/));
  });

  it('validates mirror clusters with validate_clusters', () => {
    assert.throws(() => harness.dataPlane.updateRoutes(withPolicy({ cluster: 'nowhere' }, { validate_clusters: { value: true } })),
      rejected(/references cluster nowhere, which does not exist/));
  });

  it('accepts trace_sampled and disable_shadow_host_suffix_append', async () => {
    harness.dataPlane.updateRoutes(withPolicy({ cluster: 'mirror', trace_sampled: { value: true }, disable_shadow_host_suffix_append: true }));
    try {
      const testId = id();
      assert.equal((await send(port, '/plain', { host: 'reviews:9080', headers: { 'x-test-id': testId } })).status, 200);
      assert.equal((await mirroredCopy(mirror, testId))[0].host, 'reviews:9080');
    } finally {
      harness.dataPlane.updateRoutes(routes());
    }
  });

  it('builds the shadow host as Envoy does', () => {
    assert.equal(shadowHost('reviews:9080'), 'reviews-shadow:9080');
    assert.equal(shadowHost('reviews'), 'reviews-shadow');
    assert.equal(shadowHost('[::1]:80'), '[::1]-shadow:80');
    assert.equal(shadowHost('10.0.0.1:80'), '10.0.0.1-shadow:80');
  });
});
