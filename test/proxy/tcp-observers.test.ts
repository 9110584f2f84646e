// Observers of tcp_proxy connections (access logs, metrics) see each connection open and close with
// what the proxy learned: its cluster, the endpoint it reached, the bytes both ways, and Envoy's
// response flags when no endpoint was healthy (UH) or every connect failed (UF).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { registerTcpObserver, type TcpSessionInfo } from '../../src/proxy/tcp/tcp-observers.ts';
import { ResponseFlag } from '../../src/proxy/telemetry/response-flags.ts';
import { Harness } from './support/harness.ts';
import { tcpProxy } from './support/listener-resources.ts';
import { listener, staticCluster } from './support/resources.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { closedPort } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

type Event = { kind: 'open' | 'connected' | 'close'; info: TcpSessionInfo; snapshot: Omit<TcpSessionInfo, 'downstream'> };
const events: Event[] = [];

// Observes the tcp_proxy filters whose stat_prefix starts with `observed`.
registerTcpObserver([], (_at, config) => {
  if (typeof config.stat_prefix !== 'string' || !config.stat_prefix.startsWith('observed')) return null;
  const record = (kind: Event['kind']) => (info: TcpSessionInfo) => {
    const { downstream: _d, ...snapshot } = info;
    events.push({ kind, info, snapshot: { ...snapshot } });
  };
  return () => ({ onOpen: record('open'), onUpstreamConnected: record('connected'), onClose: record('close') });
});

const harness = new Harness();
let upstream: TcpUpstream;

before(async () => {
  upstream = await startTcpUpstream('db');
  const refused = await closedPort();
  await harness.apply({
    clusters: [staticCluster('db', [upstream.port]), staticCluster('empty', []), staticCluster('refusing', [refused])],
    listeners: [
      listener('observed', tcpProxy('observed', 'db')),
      listener('observed-empty', tcpProxy('observed-empty', 'empty')),
      listener('observed-refused', tcpProxy('observed-refused', 'refusing')),
      listener('unobserved', tcpProxy('plain', 'db')),
    ],
  });
});

after(async () => {
  await harness.close();
  await upstream?.close();
});

/** Connects, sends `payload`, reads until the echo is back, and closes. */
async function exchange(port: number, payload: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => { received += chunk; });
  await once(socket, 'connect');
  socket.write(payload);
  await waitFor('the echo', () => received, (r) => r.endsWith(payload));
  socket.end();
  await once(socket, 'close');
  return received;
}

/** Connects and waits for the proxy to close the connection. */
async function closedByProxy(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  await once(socket, 'close');
}

function eventsOf(statPrefix: string): Event[] {
  return events.filter((e) => e.info.statPrefix === statPrefix);
}

describe('tcp_proxy observers', () => {
  it('sees a connection open, reach its endpoint and close with its byte counts', async () => {
    const received = await exchange(harness.port('observed'), 'hello');
    assert.equal(received, 'db\nhello');
    await waitFor('the close', () => eventsOf('observed').length, (n) => n === 3);
    const [open, connected, close] = eventsOf('observed');
    assert.equal(open.kind, 'open');
    assert.equal(open.snapshot.clusterName, 'db');
    assert.equal(open.snapshot.upstreamHost, null);
    assert.equal(connected.kind, 'connected');
    assert.equal(connected.snapshot.upstreamHost, `127.0.0.1:${upstream.port}`);
    assert.equal(close.kind, 'close');
    assert.equal(close.snapshot.bytesReceived, 5);
    assert.equal(close.snapshot.bytesSent, 'db\nhello'.length);
    assert.equal(close.snapshot.responseFlags, 0);
    assert.ok(close.snapshot.startTime <= Date.now());
    assert.equal(open.info, close.info, 'one record per connection');
  });

  it('flags UH when the cluster has no endpoint and UF when every connect fails', async () => {
    await closedByProxy(harness.port('observed-empty'));
    await waitFor('the close', () => eventsOf('observed-empty').filter((e) => e.kind === 'close').length, (n) => n === 1);
    const empty = eventsOf('observed-empty').find((e) => e.kind === 'close')!;
    assert.equal(empty.snapshot.responseFlags, ResponseFlag.NoHealthyUpstream);
    assert.equal(empty.snapshot.upstreamHost, null);

    await closedByProxy(harness.port('observed-refused'));
    await waitFor('the close', () => eventsOf('observed-refused').filter((e) => e.kind === 'close').length, (n) => n === 1);
    const refused = eventsOf('observed-refused');
    assert.deepEqual(refused.map((e) => e.kind), ['open', 'close'], 'never connected');
    assert.equal(refused[1].snapshot.responseFlags, ResponseFlag.UpstreamConnectionFailure);
  });

  it('builds observers only for the tcp_proxy filters whose config asks for them', async () => {
    const before = events.length;
    await exchange(harness.port('unobserved'), 'x');
    assert.equal(events.length, before);
  });
});
