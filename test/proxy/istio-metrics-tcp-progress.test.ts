// A long TCP connection shows its bytes before it closes: every 15 s the sidecar adds what the open
// connection moved since the last report (Istio reports TCP bytes periodically), and the close adds
// only the rest, so nothing is counted twice. The 15 s tick is driven by node:test's mock timers.
import { after, before, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { tcpProgressIntervalMs } from '../../src/proxy/tcp/tcp-proxy.ts';
import { tcpProxy } from './support/listener-resources.ts';
import { listener, staticCluster } from './support/resources.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { waitFor } from './support/wait.ts';
import { scrape, sidecar, sidecarNode, total } from './istio-metrics.support.ts';

const server = sidecar(sidecarNode('db-v1', 'db', 'v1'));
let db: TcpUpstream;

before(async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  db = await startTcpUpstream('db');
  await server.apply({
    clusters: [staticCluster('inbound|27017||', [db.port])],
    listeners: [listener('virtualInbound', tcpProxy('inbound|27017||', 'inbound|27017||'), { extra: { traffic_direction: 'INBOUND' } })],
  });
});

after(async () => {
  mock.timers.reset();
  await server.close();
  await db?.close();
});

it('counts the bytes of an open connection every 15 s, and only the rest when it closes', async () => {
  const socket = net.connect(server.port(), '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => { received += chunk; });
  await once(socket, 'connect');
  socket.write('hello');
  await waitFor('the echo', () => received, (r) => r.endsWith('hello'));
  const labels = { reporter: 'destination' };
  assert.equal(total(await scrape(server), 'istio_tcp_received_bytes_total', labels), 0, 'nothing counted before the first report');

  mock.timers.tick(tcpProgressIntervalMs);
  assert.equal(total(await scrape(server), 'istio_tcp_received_bytes_total', labels), 'hello'.length, 'the open connection reported');
  const sentSoFar = total(await scrape(server), 'istio_tcp_sent_bytes_total', labels);
  assert.equal(sentSoFar, received.length);

  socket.write('more');
  await waitFor('the second echo', () => received, (r) => r.endsWith('more'));
  socket.end();
  await once(socket, 'close');
  await waitFor('the close counted', async () => total(await scrape(server), 'istio_tcp_connections_closed_total', labels), (n) => n === 1);
  const final = await scrape(server);
  assert.equal(total(final, 'istio_tcp_received_bytes_total', labels), 'hellomore'.length, 'no byte counted twice');
  assert.equal(total(final, 'istio_tcp_sent_bytes_total', labels), received.length);
});
