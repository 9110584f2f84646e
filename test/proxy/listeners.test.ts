// Listener updates: reserved ports adopted, unchanged listeners kept, changed ones swapped in place
// (old connections drain, except those of filter chains that did not change), removed ones closed, a
// port handed over between listeners; listener filters (http_inspector, filter_disabled); tcp_proxy;
// and listener config that is rejected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain, httpInspector, tcpProxy, tlsInspector } from './support/listener-resources.ts';
import {
  assignment, edsCluster, httpConnectionManager, httpListener, route, routeConfig, routeTo, tcpListener, virtualHost,
} from './support/resources.ts';
import { startTcpUpstream, whoAnswers, type TcpUpstream } from './support/tcp-upstream.ts';
import { closedPort, startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

const up: Record<string, Upstream> = {};
let echo: net.Server;
let greeter: TcpUpstream;
const cleanup: (() => Promise<void> | void)[] = [];

const routesTo = (name: string, cluster: string) => routeConfig(name, [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])]);

before(async () => {
  up.a = await startUpstream('a');
  up.b = await startUpstream('b');
  echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  greeter = await startTcpUpstream('greeter');
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  for (const u of Object.values(up)) await u.close();
  echo.close();
  await greeter.close();
});

async function proxy(options: ConstructorParameters<typeof Harness>[0] = {}): Promise<Harness> {
  const harness = new Harness(options);
  cleanup.push(() => harness.close());
  await harness.apply({
    clusters: [edsCluster('a'), edsCluster('b'), edsCluster('echo'), edsCluster('greeter')],
    endpoints: [
      assignment('a', [up.a.port]), assignment('b', [up.b.port]), assignment('echo', [(echo.address() as net.AddressInfo).port]),
      assignment('greeter', [greeter.port]),
    ],
    routes: [routesTo('to-a', 'a'), routesTo('to-b', 'b')],
  });
  return harness;
}

function get(port: number, agent: http.Agent | false = false): Promise<{ upstream: string; connection: string | undefined; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ upstream: JSON.parse(body).upstream, connection: res.headers.connection, socket: req.socket as net.Socket }));
    });
    req.on('error', reject);
  });
}

describe('listener updates', () => {
  it('adopt a reserved, already-listening server instead of binding its port', async () => {
    const reservedServer = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => reservedServer.listen(0, '127.0.0.1', r));
    const port = (reservedServer.address() as net.AddressInfo).port;
    const reserved = new Map([[port, reservedServer]]);
    const harness = await proxy({ reservedListeners: reserved });
    await harness.dataPlane.updateListeners([httpListener('inbound', { rds: 'to-a', port })]);
    assert.deepEqual(harness.dataPlane.listenerAddresses(), [{ name: 'inbound', address: '127.0.0.1', port }]);
    assert.equal(reserved.size, 0, 'the reserved server was taken');
    assert.equal((await get(port)).upstream, 'a');
  });

  it('keep an unchanged listener and its keep-alive connections', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([httpListener('l', { rds: 'to-a' })]);
    const port = harness.port();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    const first = await get(port, agent);
    await harness.dataPlane.updateListeners([httpListener('l', { rds: 'to-a' })]);
    const second = await get(port, agent);
    assert.equal(second.socket, first.socket, 'the connection was kept');
    assert.equal(second.connection, 'keep-alive');
  });

  it('swap a changed listener in place: new connections use the new config, old idle ones close', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([httpListener('l', { rds: 'to-a' })]);
    const port = harness.port();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    const before = await get(port, agent);
    assert.equal(before.upstream, 'a');
    const oldClosed = once(before.socket, 'close');

    await harness.dataPlane.updateListeners([httpListener('l', { rds: 'to-b' })]);
    assert.equal(harness.port(), port, 'same socket');
    assert.equal((await get(port)).upstream, 'b');
    await oldClosed;
    const after = await get(port, agent);
    assert.notEqual(after.socket, before.socket);
    assert.equal(after.upstream, 'b');
  });

  it('close a removed listener', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([httpListener('stays', { rds: 'to-a' }), httpListener('goes', { rds: 'to-b' })]);
    const gone = harness.port('goes');
    assert.equal((await get(gone)).upstream, 'b');
    await harness.dataPlane.updateListeners([httpListener('stays', { rds: 'to-a' })]);
    await assert.rejects(get(gone), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    assert.equal((await get(harness.port('stays'))).upstream, 'a');
  });

  it('hand a port over to a listener of another name without rebinding', async () => {
    const harness = await proxy();
    const port = await closedPort();
    await harness.dataPlane.updateListeners([httpListener('old-name', { rds: 'to-a', port })]);
    await harness.dataPlane.updateListeners([httpListener('new-name', { rds: 'to-b', port })]);
    assert.deepEqual(harness.dataPlane.listenerAddresses().map((l) => [l.name, l.port]), [['new-name', port]]);
    assert.equal((await get(port)).upstream, 'b');
  });
});

describe('tcp_proxy', () => {
  it('pipes bytes both ways to an endpoint of the cluster, half-close included', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([tcpListener('tcp', 'echo')]);
    const socket = net.connect(harness.port(), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    await once(socket, 'connect');
    socket.end('hello through tcp_proxy');
    await once(socket, 'end');
    assert.equal(Buffer.concat(received).toString(), 'hello through tcp_proxy');
    await waitFor('tcp stats', () => harness.metric('envoy_tcp_downstream_cx_total', { envoy_tcp_prefix: 'tcp' }), (n) => n === 1);
  });

  it('closes the connection when the cluster has no endpoint', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([tcpListener('tcp', 'no-such-cluster')]);
    const socket = net.connect(harness.port(), '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'close');
    assert.equal(await harness.metric('envoy_tcp_downstream_cx_no_route', { envoy_tcp_prefix: 'tcp' }), 1);
  });
});

/** A raw TCP connection to the proxy that collects what comes back. */
async function rawConnection(port: number): Promise<{ socket: net.Socket; received: () => string }> {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => { data += c; });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return { socket, received: () => data };
}

/** Rejects after `ms` unless `promise` settles first (a deadline for a wait, not a timing assertion). */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('several filter chains', () => {
  const hcmToA = () => httpConnectionManager({ rds: 'to-a', statPrefix: 'inspected-http' });

  it('sends HTTP/1.1 (http_inspector) to the HTTP chain and other bytes to tcp_proxy on one listener', async () => {
    const harness = await proxy();
    await harness.dataPlane.updateListeners([chainsListener('mixed', [
      filterChain(hcmToA(), { application_protocols: ['http/1.1', 'http/1.0'] }),
      filterChain(tcpProxy('raw', 'echo')),
    ], { listenerFilters: [httpInspector] })]);
    const port = harness.port();
    assert.equal((await get(port)).upstream, 'a');
    const raw = await rawConnection(port);
    raw.socket.end('not http at all');
    await once(raw.socket, 'close');
    assert.equal(raw.received(), 'not http at all');
  });

  it('keeps the connections of unchanged filter chains when the listener changes, and drains the others', async () => {
    const harness = await proxy({ drainTimeoutMs: 200 });
    const kept = filterChain(tcpProxy('kept', 'echo'), { application_protocols: ['http/1.1'] });
    await harness.dataPlane.updateListeners([chainsListener('l', [kept, filterChain(tcpProxy('changes-1', 'echo'))], { listenerFilters: [httpInspector] })]);
    const port = harness.port();
    const onKept = await rawConnection(port);
    onKept.socket.write('GET / HTTP/1.1\r\n');
    const onChanged = await rawConnection(port);
    onChanged.socket.write('hello\n');
    await waitFor('both echoes', () => [onKept.received(), onChanged.received()], ([a, b]) => a === 'GET / HTTP/1.1\r\n' && b === 'hello\n');
    const changedClosed = once(onChanged.socket, 'close');

    await harness.dataPlane.updateListeners([chainsListener('l', [kept, filterChain(tcpProxy('changes-2', 'echo'))], { listenerFilters: [httpInspector] })]);
    await changedClosed; // its chain changed: drained, then closed at the drain timeout
    onKept.socket.write('still here');
    await waitFor('echo on the kept chain', () => onKept.received(), (r) => r.endsWith('still here'));
    assert.equal(onKept.socket.destroyed, false);
    onKept.socket.destroy();
  });

  it('inspects the connections of an adopted reserved server, which accepts them paused', async () => {
    const reservedServer = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    await new Promise<void>((r) => reservedServer.listen(0, '127.0.0.1', r));
    const port = (reservedServer.address() as net.AddressInfo).port;
    const harness = await proxy({ reservedListeners: new Map([[port, reservedServer]]) });
    await harness.dataPlane.updateListeners([chainsListener('reserved', [
      filterChain(hcmToA(), { application_protocols: ['http/1.1'] }),
      filterChain(tcpProxy('raw', 'echo')),
    ], { port, listenerFilters: [httpInspector] })]);
    assert.equal((await get(port)).upstream, 'a');
    const raw = await rawConnection(port);
    raw.socket.end('raw bytes\n');
    await once(raw.socket, 'close');
    assert.equal(raw.received(), 'raw bytes\n');
  });

  it('skips a listener filter whose filter_disabled matches the destination port', async () => {
    const harness = await proxy();
    const port = await closedPort();
    const range = { destination_port_range: { start: port, end: port + 1 } };
    const listenerWith = (disabled: object, extra: object) => chainsListener('l', [filterChain(tcpProxy('greet', 'greeter'))], {
      port, listenerFilters: [{ ...tlsInspector, filter_disabled: disabled }], extra: extra as Record<string, unknown>,
    });
    // The upstream speaks first: with the inspector on, nothing would reach it before listener_filters_timeout.
    await harness.dataPlane.updateListeners([listenerWith(range, { listener_filters_timeout: { seconds: '60' } })]);
    assert.equal(await within(5000, 'greeting without inspection', whoAnswers(port)), 'greeter');
    await harness.dataPlane.updateListeners([listenerWith({ not_match: range }, { listener_filters_timeout: { nanos: 100_000_000 } })]);
    assert.equal(await whoAnswers(port), null, 'the inspector ran, waited, and closed the connection at the timeout');
  });
});

describe('rejected listener config', () => {
  const tcpChain = (match?: object) => filterChain(tcpProxy('t', 'echo'), match as Record<string, unknown> | undefined);
  const cases: [string, object, RegExp][] = [
    ['two filter chains with the same match', chainsListener('l', [tcpChain({ destination_port: { value: 80 } }), tcpChain({ destination_port: { value: 80 } })]),
      /^Listener l: filter_chains\[1\]\.filter_chain_match has the same matching rules as filter_chains\[0\]/],
    ['no filter chain and no default', chainsListener('l', []), /^Listener l: filter_chains is empty and there is no default_filter_chain/],
    ['a match on the default filter chain', chainsListener('l', [tcpChain()], { defaultChain: tcpChain({ transport_protocol: 'tls' }) }),
      /default_filter_chain\.filter_chain_match has no effect on the default filter chain/],
    ['a listener filter it does not implement', chainsListener('l', [tcpChain()], { listenerFilters: [{ name: 'envoy.filters.listener.original_dst' }] }),
      /listener_filters\[0\] \(envoy\.filters\.listener\.original_dst\) filter is not supported/],
    ['JA3 fingerprinting', chainsListener('l', [tcpChain()], { listenerFilters: [{ ...tlsInspector, typed_config: { ...(tlsInspector.typed_config as object), enable_ja3_fingerprinting: { value: true } } }] }),
      /listener_filters\[0\]\.typed_config\.enable_ja3_fingerprinting true is not supported/],
    ['a filter_disabled rule with one rule in or_match', chainsListener('l', [tcpChain()], { listenerFilters: [{ ...tlsInspector, filter_disabled: { or_match: { rules: [{ any_match: true }] } } }] }),
      /filter_disabled\.or_match\.rules must have at least 2 rules/],
    ['two network filters in a chain', chainsListener('l', [{ filters: [...(tcpChain().filters as object[]), ...(tcpChain().filters as object[])] }]),
      /filter_chains\[0\]\.filters has 2 filters/],
  ];
  for (const [what, listener, message] of cases) {
    it(`rejects ${what}`, async () => {
      const harness = await proxy();
      await assert.rejects(harness.dataPlane.updateListeners([listener]), (err: Error) => err.name === 'ConfigRejectedError' && message.test(err.message));
    });
  }
});
