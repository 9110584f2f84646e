// LEAST_REQUEST through the proxy: with one endpoint holding every request it gets (slow) and one
// answering at once (fast), new requests go to the less loaded endpoint. Equal weights: power of two
// choices (and of N with choice_count); unequal weights: weight / (active + 1) ^ active_request_bias.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const harness = new Harness();
const held: http.ServerResponse[] = [];
const pending: Promise<Reply>[] = [];
let slow: Upstream;
let fast: Upstream;
let port = 0;

before(async () => {
  slow = await startUpstream('slow', (req, res) => {
    req.resume();
    held.push(res);
  });
  fast = await startUpstream('fast');
  await harness.apply({
    clusters: [
      staticCluster('p2c', [slow.port, fast.port], { lb_policy: 'LEAST_REQUEST' }),
      staticCluster('choices', [slow.port, fast.port], { lb_policy: 'LEAST_REQUEST', least_request_lb_config: { choice_count: { value: 5 } } }),
      staticCluster('weighted', [{ port: slow.port, weight: 2 }, { port: fast.port, weight: 1 }], { lb_policy: 'LEAST_REQUEST' }),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], ['p2c', 'choices', 'weighted'].map((c) => route({ prefix: `/${c}` }, routeTo(c))))])],
  });
  port = harness.port();
});

after(async () => {
  for (const res of held) res.end('{}');
  await Promise.all(pending);
  await harness.close();
  await slow.close();
  await fast.close();
});

/** One request: 'fast' once it completed there, 'slow' once the slow endpoint holds it (left pending). */
async function dispatch(path: string): Promise<'slow' | 'fast'> {
  const before = slow.count;
  let done = false;
  const reply = send(port, path).then((r) => { done = true; return r; });
  while (!done && slow.count === before) await new Promise((r) => setTimeout(r, 1));
  if (slow.count > before) {
    pending.push(reply);
    return 'slow';
  }
  assert.equal((await reply).status, 200);
  return 'fast';
}

async function slowShare(path: string, n: number): Promise<number> {
  let onSlow = 0;
  for (let i = 0; i < n; i++) if ((await dispatch(path)) === 'slow') onSlow++;
  return onSlow;
}

describe('LEAST_REQUEST', () => {
  it('sends new requests to the less loaded endpoint (power of two choices)', async () => {
    // The slow endpoint wins only when both samples are it (1 in 4); round robin or random would give it half.
    const onSlow = await slowShare('/p2c', 100);
    assert.ok(onSlow <= 38, `the loaded endpoint got ${onSlow} of 100 requests (expected ~25)`);
    assert.ok(onSlow >= 8, `the loaded endpoint got ${onSlow} of 100 (samples are drawn with replacement: ~25 expected)`);
  });

  it('samples choice_count endpoints', async () => {
    const onSlow = await slowShare('/choices', 100);
    // 5 samples: the loaded endpoint only when all five are it (1 in 32).
    assert.ok(onSlow <= 10, `the loaded endpoint got ${onSlow} of 100 requests (expected ~3)`);
  });

  it('weighs endpoints by weight / (active requests + 1) when weights differ', async () => {
    // Weight 2 against 1: weighted round robin or random would give the loaded endpoint two thirds;
    // with its active requests piling up its effective weight falls (about 20 of 100 expected).
    const onSlow = await slowShare('/weighted', 100);
    assert.ok(onSlow <= 35, `the loaded endpoint got ${onSlow} of 100 requests`);
    assert.ok(onSlow >= 5, `the loaded endpoint got ${onSlow} of 100 requests`);
  });
});
