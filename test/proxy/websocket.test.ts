// WebSocket through the proxy (HttpConnectionManager upgrade_configs): the upgrade request is routed
// like any request, the endpoint's 101 is relayed and bytes then flow both ways, through one proxy and
// through two, for as long as the connection lives (the route timeout covers only the wait for the
// upgrade response); closing either end closes the other; a non-101 answer is relayed as a response;
// an upgrade type the connection manager does not enable is answered 403.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { openWebSocket, roundTrip, startWebSocketServer, type WebSocketServer } from './support/websocket-server.ts';
import { waitFor } from './support/wait.ts';

const websocket = { upgrade_configs: [{ upgrade_type: 'websocket' }] };
/** Short enough that a WebSocket outliving it proves it does not apply after the upgrade. */
const routeTimeout = { nanos: 150_000_000 };

const proxyA = new Harness();
const proxyB = new Harness();
let app: WebSocketServer;
let portA = 0;
let portB = 0;
let noUpgradesPort = 0;
let disabledPort = 0;
const sockets: WebSocket[] = [];

function routes(cluster: string): Record<string, unknown> {
  return routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster, { timeout: routeTimeout }))])]);
}

before(async () => {
  app = await startWebSocketServer();
  await proxyB.apply({
    clusters: [staticCluster('app', [app.port])],
    listeners: [httpListener('inbound', { routeConfig: routes('app'), hcm: websocket })],
  });
  portB = proxyB.port();
  await proxyA.apply({
    clusters: [staticCluster('app', [app.port]), staticCluster('proxy-b', [portB])],
    listeners: [
      httpListener('direct', { routeConfig: routes('app'), hcm: websocket }),
      httpListener('chained', { routeConfig: routes('proxy-b'), hcm: websocket }),
      httpListener('no-upgrades', { routeConfig: routes('app') }),
      httpListener('disabled', { routeConfig: routes('app'), hcm: { upgrade_configs: [{ upgrade_type: 'websocket', enabled: { value: false } }] } }),
    ],
  });
  portA = proxyA.port('direct');
  noUpgradesPort = proxyA.port('no-upgrades');
  disabledPort = proxyA.port('disabled');
});

after(async () => {
  for (const ws of sockets) ws.close();
  await proxyA.close();
  await proxyB.close();
  await app.close();
});

async function open(port: number, path = '/chat'): Promise<WebSocket> {
  const ws = await openWebSocket(`ws://127.0.0.1:${port}${path}`);
  sockets.push(ws);
  return ws;
}

/** An upgrade request with node:http: the response (non-101) or 101. */
function upgradeRequest(port: number, path: string, upgrade = 'websocket'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path, agent: false,
      headers: { connection: 'Upgrade', upgrade, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('WebSocket', () => {
  it('echoes through one proxy, many messages over one connection, beyond the route timeout', async () => {
    const stats = proxyA.stats.httpConnectionManager('direct');
    const upgradesBefore = stats.downstreamCxUpgradesTotal;
    const ws = await open(portA);
    for (let i = 0; i < 50; i++) assert.equal(await roundTrip(ws, `message ${i}`), `message ${i}`);
    // Idle for longer than the route timeout: the upgraded connection is not subject to it.
    await new Promise((r) => setTimeout(r, routeTimeout.nanos / 1e6 * 2));
    for (let i = 50; i < 100; i++) assert.equal(await roundTrip(ws, `message ${i}`), `message ${i}`);
    const big = 'z'.repeat(200_000);
    assert.equal(await roundTrip(ws, big), big);
    const headers = app.requests.at(-1)!;
    assert.equal(headers.upgrade, 'websocket');
    assert.match(String(headers.connection), /upgrade/i);
    assert.ok(headers['x-request-id'], 'the upgrade request went through the connection manager');
    assert.equal(stats.downstreamCxUpgradesTotal, upgradesBefore + 1, 'counted as an upgraded connection');
    assert.ok(stats.downstreamCxUpgradesActive >= 1, 'open while the tunnel is');
    assert.ok(stats.downstreamCxHttp1Total >= 1, 'served by the HTTP/1.1 codec');
  });

  it('echoes through two proxies', async () => {
    const ws = await open(proxyA.port('chained'));
    for (let i = 0; i < 50; i++) assert.equal(await roundTrip(ws, `hop ${i}`), `hop ${i}`);
  });

  it('a client close reaches the server, and the upstream connections close', async () => {
    const upstreamConnections = async () => [
      await proxyA.metric('envoy_cluster_upstream_cx_active', { envoy_cluster_name: 'proxy-b' }),
      await proxyB.metric('envoy_cluster_upstream_cx_active', { envoy_cluster_name: 'app' }),
    ];
    const [a0, b0] = await upstreamConnections();
    const ws = await open(proxyA.port('chained'));
    assert.deepEqual(await upstreamConnections(), [a0! + 1, b0! + 1]);
    assert.equal(await roundTrip(ws, 'before close'), 'before close');
    const frames = app.closeFrames;
    const closed = app.closed;
    const clientClosed = new Promise((r) => ws.addEventListener('close', r, { once: true }));
    ws.close(1000, 'bye');
    await clientClosed;
    await waitFor('the server to get the close frame and its connection to close', () => [app.closeFrames, app.closed], ([f, c]) => f === frames + 1 && c >= closed + 1);
    await waitFor('the proxies to close their upstream connections', upstreamConnections, ([a, b]) => a === a0 && b === b0);
  });

  it('a server close reaches the client', async () => {
    const ws = await open(proxyA.port('chained'));
    const closeEvent = new Promise<CloseEvent>((r) => ws.addEventListener('close', r, { once: true }));
    ws.send('close please');
    const event = await closeEvent;
    assert.equal(event.code, 1000);
  });

  it('relays a non-101 answer to the upgrade as a response', async () => {
    const reply = await upgradeRequest(portA, '/reject');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, 'no socket');
    const chained = await upgradeRequest(proxyA.port('chained'), '/reject');
    assert.equal(chained.status, 404);
    assert.equal(chained.body, 'no socket');
  });

  it('answers 504 when the endpoint does not answer the upgrade within the route timeout', async () => {
    const reply = await upgradeRequest(portA, '/silent');
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'upstream request timeout');
  });

  it('answers 403 to an upgrade the connection manager does not enable, and to other upgrade types', async () => {
    const before = app.requests.length;
    assert.equal((await upgradeRequest(noUpgradesPort, '/chat')).status, 403);
    assert.equal((await upgradeRequest(disabledPort, '/chat')).status, 403);
    assert.equal((await upgradeRequest(portA, '/chat', 'spdy/3')).status, 403);
    assert.equal(app.requests.length, before, 'a refused upgrade reached the endpoint');
    // Plain requests on those listeners still work.
    assert.equal((await send(noUpgradesPort, '/plain')).body, 'plain http');
  });

  it('rejects upgrade configs it cannot honour', async () => {
    const reject = (hcm: Record<string, unknown>) => proxyA.dataPlane.updateListeners([httpListener('bad', { routeConfig: routes('app'), hcm })]);
    await assert.rejects(reject({ upgrade_configs: [{ upgrade_type: 'websocket', filters: [{ name: 'x' }] }] }),
      (e: Error) => e instanceof ConfigRejectedError && /Listener bad: .*upgrade_configs\[0\]\.filters/.test(e.message));
    await assert.rejects(reject({ upgrade_configs: [{ upgrade_type: 'CONNECT' }] }), /upgrade_configs\[0\]\.upgrade_type CONNECT is not supported/);
    await assert.rejects(reject({ upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'WebSocket' }] }), /appears twice/);
  });
});
