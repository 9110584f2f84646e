// TCP routing through tcp_proxy: weighted_clusters split connections by weight, filter chains are
// chosen by destination port (and default_filter_chain takes what no chain matches, or the connection
// is closed), max_connect_attempts moves a connection to a live endpoint, idle_timeout closes idle
// connections, and config tcp_proxy cannot honour is rejected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, tcpProxy } from './support/listener-resources.ts';
import { assignment, edsCluster } from './support/resources.ts';
import { startTcpUpstream, whoAnswers, whoAnswersMany, type TcpUpstream } from './support/tcp-upstream.ts';
import { closedPort } from './support/upstream.ts';

const up: Record<string, TcpUpstream> = {};
const cleanup: (() => Promise<void> | void)[] = [];
let deadPort: number;

before(async () => {
  for (const name of ['a', 'b', 'c']) up[name] = await startTcpUpstream(name);
  deadPort = await closedPort();
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  for (const u of Object.values(up)) await u.close();
});

async function proxy(): Promise<Harness> {
  const harness = new Harness({ drainTimeoutMs: 200 });
  cleanup.push(() => harness.close());
  await harness.apply({
    clusters: [edsCluster('a'), edsCluster('b'), edsCluster('c'), edsCluster('half-dead')],
    endpoints: [
      assignment('a', [up.a.port]), assignment('b', [up.b.port]), assignment('c', [up.c.port]),
      assignment('half-dead', [deadPort, up.a.port]),
    ],
  });
  return harness;
}

function listenerStats(harness: Harness, port: number) {
  return harness.stats.listener(`127.0.0.1_${port}`);
}

describe('tcp_proxy weighted_clusters', () => {
  it('splits connections 75/25 by weight', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('split', { a: 75, b: 25 }))])]);
    const n = 200;
    const counts = await whoAnswersMany(n, harness.port());
    assert.equal((counts.a ?? 0) + (counts.b ?? 0), n, `every connection reached a or b: ${JSON.stringify(counts)}`);
    // Expected 150/50; the bounds are about four standard deviations of a binomial(200, 0.75).
    assert.ok(counts.a >= 125 && counts.a <= 175, `a got ${counts.a} of ${n}`);
    assert.equal(harness.stats.tcpProxy('split').downstreamCxTotal, n);
  });

  it('sends every connection to the only cluster of a one-entry weighted_clusters', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('one', { c: 3 }))])]);
    assert.deepEqual(await whoAnswersMany(5, harness.port()), { c: 5 });
  });
});

describe('filter chain selection by destination_port', () => {
  it('prefers the chain naming the port over a chain for any port', async () => {
    const harness = await proxy();
    const port = await closedPort();
    const other = port === 65535 ? port - 1 : port + 1;
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('any', 'c')),
      filterChain(tcpProxy('this-port', 'a'), { destination_port: { value: port } }),
      filterChain(tcpProxy('other-port', 'b'), { destination_port: { value: other } }),
    ], { port })]);
    assert.deepEqual(await whoAnswersMany(3, port), { a: 3 });
  });

  it('uses the chain for any port when no chain names the port', async () => {
    const harness = await proxy();
    const port = await closedPort();
    const other = port === 65535 ? port - 1 : port + 1;
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('any', 'c')),
      filterChain(tcpProxy('other-port', 'b'), { destination_port: { value: other } }),
    ], { port })]);
    assert.deepEqual(await whoAnswersMany(3, port), { c: 3 });
  });

  it('does not fall back to the any-port chain when the chains of the port do not match further on (Envoy)', async () => {
    const harness = await proxy();
    const port = await closedPort();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('any', 'c')),
      filterChain(tcpProxy('port-but-not-source', 'a'), { destination_port: { value: port }, source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] }),
    ], { port, defaultChain: filterChain(tcpProxy('default', 'b')) })]);
    assert.deepEqual(await whoAnswersMany(3, port), { b: 3 });
  });
});

describe('default_filter_chain and no match', () => {
  it('sends a connection no chain matches to default_filter_chain', async () => {
    const harness = await proxy();
    const port = await closedPort();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('elsewhere', 'a'), { destination_port: { value: port === 65535 ? port - 1 : port + 1 } }),
    ], { port, defaultChain: filterChain(tcpProxy('default', 'b')) })]);
    assert.deepEqual(await whoAnswersMany(3, port), { b: 3 });
  });

  it('closes a connection no chain matches when there is no default_filter_chain, and counts it', async () => {
    const harness = await proxy();
    const port = await closedPort();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('elsewhere', 'a'), { destination_port: { value: port === 65535 ? port - 1 : port + 1 } }),
      filterChain(tcpProxy('not-loopback', 'b'), { source_type: 'EXTERNAL' }),
    ], { port })]);
    assert.deepEqual(await whoAnswersMany(2, port), { closed: 2 });
    const stats = listenerStats(harness, port);
    assert.equal(stats.noFilterChainMatch, 2);
    assert.equal(stats.downstreamCxTotal, 0, 'a connection without a chain is not a downstream connection (as in Envoy)');
  });

  it('matches on source_type and source_prefix_ranges, the longest prefix first', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('wide', 'a'), { source_prefix_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }] }),
      filterChain(tcpProxy('narrow', 'b'), { source_prefix_ranges: [{ address_prefix: '127.0.0.1', prefix_len: { value: 32 } }] }),
      filterChain(tcpProxy('local', 'c'), { source_type: 'SAME_IP_OR_LOOPBACK', source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] }),
    ])]);
    // source_type comes before source IP: the SAME_IP_OR_LOOPBACK chain wins the step, then its prefix fails.
    assert.deepEqual(await whoAnswersMany(2, harness.port()), { closed: 2 });
    await harness.dataPlane.updateListeners([chainsListener('tcp', [
      filterChain(tcpProxy('wide', 'a'), { source_prefix_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }] }),
      filterChain(tcpProxy('narrow', 'b'), { source_prefix_ranges: [{ address_prefix: '127.0.0.1', prefix_len: { value: 32 } }] }),
    ])]);
    assert.deepEqual(await whoAnswersMany(2, harness.port()), { b: 2 });
  });
});

describe('tcp_proxy max_connect_attempts', () => {
  it('moves a connection whose connect fails to a live endpoint', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('retry', 'half-dead', { max_connect_attempts: { value: 3 } }))])]);
    const before = up.a.connections;
    assert.deepEqual(await whoAnswersMany(10, harness.port()), { a: 10 });
    assert.equal(up.a.connections - before, 10);
    const cluster = await harness.metric('envoy_cluster_upstream_cx_connect_fail', { envoy_cluster_name: 'half-dead' });
    assert.ok((cluster ?? 0) >= 1, `connect failures were counted: ${cluster}`);
  });

  it('closes the connection after one failed attempt by default', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('no-retry', 'half-dead'))])]);
    const counts = await whoAnswersMany(10, harness.port());
    assert.ok((counts.closed ?? 0) >= 1 && (counts.a ?? 0) >= 1, JSON.stringify(counts));
  });
});

describe('tcp_proxy idle_timeout', () => {
  it('closes a connection that carries no bytes for idle_timeout', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('idle', 'a', { idle_timeout: { seconds: '0', nanos: 200_000_000 } }))])]);
    const socket = net.connect(harness.port(), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    await once(socket, 'close');
    assert.equal(harness.stats.tcpProxy('idle').idleTimeout, 1);
  });
});

describe('tcp_proxy config', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an access_log without its typed_config', { access_log: [{ name: 'envoy.access_loggers.file' }] }, /typed_config\.access_log\[0\]\.typed_config is required/],
    ['a filter_state hash policy', { hash_policy: [{ filter_state: { key: 'x' } }] }, /typed_config\.hash_policy\[0\]\.filter_state is not supported/],
    ['max_downstream_connection_duration', { max_downstream_connection_duration: { seconds: '1' } }, /typed_config\.max_downstream_connection_duration is not supported/],
    ['a zero weight', { cluster: undefined, weighted_clusters: { clusters: [{ name: 'a', weight: 0 }] } }, /weighted_clusters\.clusters\[0\]\.weight 0 must be at least 1/],
    ['both cluster and weighted_clusters', { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }] } }, /sets both cluster and weighted_clusters/],
    ['max_connect_attempts 0', { max_connect_attempts: { value: 0 } }, /max_connect_attempts must be at least 1/],
  ];
  for (const [what, extra, message] of cases) {
    it(`rejects ${what}`, async () => {
      const harness = await proxy();
      await assert.rejects(
        harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('bad', 'a', extra))])]),
        (err: Error) => err.name === 'ConfigRejectedError' && message.test(err.message) && err.message.startsWith('Listener tcp: filter_chains[0].filters[0].typed_config'),
      );
    });
  }

  it('accepts a source_ip hash policy', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('hashed', 'a', { hash_policy: [{ source_ip: {} }] }))])]);
    assert.equal(await whoAnswers(harness.port()), 'a');
  });
});

describe('tcp_proxy hash_policy source_ip', () => {
  it('keeps every connection of one client IP on one endpoint of a ring-hash cluster', async () => {
    const harness = new Harness({ drainTimeoutMs: 200 });
    cleanup.push(() => harness.close());
    await harness.apply({
      clusters: [edsCluster('hashed', { lb_policy: 'RING_HASH' })],
      endpoints: [assignment('hashed', [up.a.port, up.b.port, up.c.port])],
    });
    const withHash = tcpProxy('hashed', 'hashed', { hash_policy: [{ source_ip: {} }] });
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(withHash)])]);
    const sticky = await whoAnswersMany(30, harness.port());
    assert.equal(Object.keys(sticky).length, 1, `one endpoint for 127.0.0.1: ${JSON.stringify(sticky)}`);
    // Without the hash policy the same cluster spreads connections at random.
    await harness.dataPlane.updateListeners([chainsListener('tcp', [filterChain(tcpProxy('hashed', 'hashed'))])]);
    const spread = await whoAnswersMany(30, harness.port());
    assert.ok(Object.keys(spread).length >= 2, `spread without a hash: ${JSON.stringify(spread)}`);
  });
});
