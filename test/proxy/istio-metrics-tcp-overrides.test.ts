// Metrics overrides on a TCP chain: the control plane puts Istio's `istio.stats` PluginConfig as a
// network filter before tcp_proxy; the chain's TCP metrics then drop a metric and lose a removed tag.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { tcpProxy } from './support/listener-resources.ts';
import { listener, staticCluster } from './support/resources.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { waitFor } from './support/wait.ts';
import { matching, scrape, sidecar, sidecarNode, total } from './istio-metrics.support.ts';

const server = sidecar(sidecarNode('db-v1', 'db', 'v1'));
let db: TcpUpstream;

const statsFilter = (value: object) => ({
  name: 'istio.stats',
  typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value },
});

before(async () => {
  db = await startTcpUpstream('db');
  const chainListener = listener('virtualInbound', tcpProxy('inbound|27017||', 'inbound|27017||'), { extra: { traffic_direction: 'INBOUND' } }) as {
    filter_chains: { filters: object[] }[];
  };
  chainListener.filter_chains[0].filters.unshift(statsFilter({
    metrics: [
      { name: 'tcp_sent_bytes_total', drop: true },
      { name: 'tcp_connections_opened_total', tags_to_remove: ['destination_app'] },
    ],
  }));
  await server.apply({ clusters: [staticCluster('inbound|27017||', [db.port])], listeners: [chainListener] });
});

after(async () => {
  await server.close();
  await db?.close();
});

it('drops a TCP metric and removes a tag as the chain\'s istio.stats filter says', async () => {
  const socket = net.connect(server.port(), '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => { received += chunk; });
  await once(socket, 'connect');
  socket.write('hello');
  await waitFor('the echo', () => received, (r) => r.endsWith('hello'));
  socket.end();
  await once(socket, 'close');
  const labels = { reporter: 'destination' };
  await waitFor('the close counted', async () => total(await scrape(server), 'istio_tcp_connections_closed_total', labels), (n) => n === 1);
  const text = await scrape(server);
  assert.equal(matching(text, 'istio_tcp_sent_bytes_total', labels).length, 0, 'dropped');
  assert.equal(total(text, 'istio_tcp_received_bytes_total', labels), 'hello'.length, 'the others stay');
  const opened = matching(text, 'istio_tcp_connections_opened_total', labels);
  assert.equal(opened.length, 1);
  assert.equal(opened[0].labels.destination_app, undefined, 'the removed tag is gone');
  assert.equal(opened[0].labels.destination_workload, 'db-v1');
});
