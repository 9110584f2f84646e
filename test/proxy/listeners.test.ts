// Listener updates: reserved ports adopted, unchanged listeners kept, changed ones swapped in place
// (old connections drain), removed ones closed, a port handed over between listeners; and tcp_proxy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, tcpListener, virtualHost } from './support/resources.ts';
import { closedPort, startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

const up: Record<string, Upstream> = {};
let echo: net.Server;
const cleanup: (() => Promise<void> | void)[] = [];

const routesTo = (name: string, cluster: string) => routeConfig(name, [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])]);

before(async () => {
  up.a = await startUpstream('a');
  up.b = await startUpstream('b');
  echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  for (const u of Object.values(up)) await u.close();
  echo.close();
});

async function proxy(options: ConstructorParameters<typeof Harness>[0] = {}): Promise<Harness> {
  const harness = new Harness(options);
  cleanup.push(() => harness.close());
  await harness.apply({
    clusters: [edsCluster('a'), edsCluster('b'), edsCluster('echo')],
    endpoints: [assignment('a', [up.a.port]), assignment('b', [up.b.port]), assignment('echo', [(echo.address() as net.AddressInfo).port])],
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
