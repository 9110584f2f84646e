// Draining: stop accepting; idle keep-alive connections close; a busy one gets `connection: close` on
// its response and closes after it; drain() resolves when every connection is gone, bounded by a timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

let upstream: Upstream;
const held: http.ServerResponse[] = [];
const harnesses: Harness[] = [];

before(async () => {
  upstream = await startUpstream('app', (req, res) => {
    req.resume();
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
});

after(async () => {
  for (const res of held) res.end();
  for (const h of harnesses) await h.close();
  await upstream.close();
});

async function proxy(drainTimeoutMs = 5000): Promise<{ harness: Harness; port: number }> {
  const harness = new Harness({ drainTimeoutMs });
  harnesses.push(harness);
  await harness.apply({
    clusters: [edsCluster('app')],
    endpoints: [assignment('app', [upstream.port])],
    listeners: [httpListener('inbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])])],
  });
  return { harness, port: harness.port() };
}

/** GET through `agent`, resolving with the response and the socket it used. */
function get(port: number, path: string, agent: http.Agent): Promise<{ res: http.IncomingMessage; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ res, body, socket: req.socket as net.Socket }));
    });
    req.on('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

describe('drain', () => {
  it('stops accepting and closes idle keep-alive connections', async () => {
    const { harness, port } = await proxy();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const { socket } = await get(port, '/', agent);
      const closed = once(socket, 'close');
      await harness.dataPlane.drain();
      await closed;
      assert.ok(await refused(port), 'the listener still accepts connections');
    } finally {
      agent.destroy();
    }
  });

  it('answers a busy keep-alive connection with connection: close, then closes it', async () => {
    const { harness, port } = await proxy();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const pending = get(port, '/hold', agent);
      await waitFor('the request to reach the upstream', () => held.length, (n) => n === 1);
      let drained = false;
      const draining = harness.dataPlane.drain().then(() => { drained = true; });
      await waitFor('the listener to stop accepting', () => refused(port), (r) => r);
      assert.equal(drained, false, 'drain resolved while a request was in flight');
      held.shift()!.end('done');
      const { res, body, socket } = await pending;
      assert.equal(body, 'done');
      assert.equal(res.headers.connection, 'close');
      await draining;
      if (!socket.destroyed) await once(socket, 'close');
    } finally {
      agent.destroy();
    }
  });

  it('closes connections still busy when the drain timeout passes', async () => {
    const { harness, port } = await proxy(200);
    const pending = send(port, '/hold');
    await waitFor('the request to reach the upstream', () => held.length, (n) => n === 1);
    await harness.dataPlane.drain();
    await assert.rejects(pending);
    held.shift()!.end();
  });
});
