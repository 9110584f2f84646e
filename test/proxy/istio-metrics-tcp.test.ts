// Istio's standard TCP metrics through two sidecars back to back: the client's sidecar names the
// destination workload from the endpoint's istio.workload metadata and the service from the cluster;
// both count connections opened and closed and the bytes each way; a connection whose connects all
// fail closes with UF.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { tcpProxy } from './support/listener-resources.ts';
import { edsCluster, listener, staticCluster } from './support/resources.ts';
import { startTcpUpstream, type TcpUpstream } from './support/tcp-upstream.ts';
import { closedPort } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';
import { assignmentOf, matching, scrape, sidecar, sidecarNode, total, workloadEndpoint } from './istio-metrics.support.ts';

const dbService = 'outbound|27017||db.default.svc.cluster.local';
const client = sidecar(sidecarNode('app-v1', 'app', 'v1'));
const server = sidecar(sidecarNode('db-v1', 'db', 'v1'));
let db: TcpUpstream;

before(async () => {
  db = await startTcpUpstream('db');
  await server.apply({
    clusters: [staticCluster('inbound|27017||', [db.port])],
    listeners: [listener('virtualInbound', tcpProxy('inbound|27017||', 'inbound|27017||'), { extra: { traffic_direction: 'INBOUND' } })],
  });
  const refused = await closedPort();
  await client.apply({
    clusters: [edsCluster(dbService), staticCluster('outbound|6379||cache.default.svc.cluster.local', [refused])],
    endpoints: [assignmentOf(dbService, [workloadEndpoint(server.port(), 'db-v1;default;db;v1;Kubernetes')])],
    listeners: [
      listener('0.0.0.0_27017', tcpProxy(dbService, dbService)),
      listener('0.0.0.0_6379', tcpProxy('cache', 'outbound|6379||cache.default.svc.cluster.local')),
    ],
  });
});

after(async () => {
  await client.close();
  await server.close();
  await db?.close();
});

async function exchange(port: number, payload: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => { received += chunk; });
  await once(socket, 'connect');
  socket.write(payload);
  await waitFor('the echo', () => received, (r) => r.endsWith(payload));
  socket.end();
  await once(socket, 'close');
}

describe('Istio standard TCP metrics', () => {
  it('counts connections and bytes on both sidecars', async () => {
    await exchange(client.port('0.0.0.0_27017'), 'hello');
    await exchange(client.port('0.0.0.0_27017'), 'again!');
    const closed = async (proxy: typeof client, reporter: string) =>
      total(await scrape(proxy), 'istio_tcp_connections_closed_total', { reporter });
    await waitFor('both sidecars to see the connections closed', async () => [await closed(client, 'source'), await closed(server, 'destination')],
      ([c, s]) => c === 2 && s === 2);

    const source = await scrape(client);
    const labels = { reporter: 'source', destination_service_name: 'db' };
    const opened = matching(source, 'istio_tcp_connections_opened_total', labels);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].value, 2);
    assert.equal(opened[0].labels.destination_workload, 'db-v1');
    assert.equal(opened[0].labels.destination_app, 'db');
    assert.equal(opened[0].labels.destination_service, 'db.default.svc.cluster.local');
    assert.equal(opened[0].labels.source_workload, 'app-v1');
    assert.equal(opened[0].labels.request_protocol, 'tcp');
    assert.equal(opened[0].labels.response_flags, '-');
    assert.equal(opened[0].labels.response_code, undefined, 'TCP metrics have no response code');
    assert.equal(total(source, 'istio_tcp_received_bytes_total', labels), 'hello'.length + 'again!'.length);
    assert.equal(total(source, 'istio_tcp_sent_bytes_total', labels), 2 * 'db\n'.length + 'hello'.length + 'again!'.length);

    const destination = await scrape(server);
    const inbound = matching(destination, 'istio_tcp_connections_opened_total', { reporter: 'destination' });
    assert.equal(inbound.length, 1);
    assert.equal(inbound[0].value, 2);
    assert.equal(inbound[0].labels.destination_workload, 'db-v1');
    assert.equal(inbound[0].labels.connection_security_policy, 'none');
    assert.equal(total(destination, 'istio_tcp_received_bytes_total', { reporter: 'destination' }), 'hello'.length + 'again!'.length);
  });

  it('closes a connection whose connects all failed with UF, counted as opened and closed', async () => {
    const socket = net.connect(client.port('0.0.0.0_6379'), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    await once(socket, 'close');
    const labels = { reporter: 'source', destination_service_name: 'cache', response_flags: 'UF' };
    await waitFor('the close to be counted', async () => total(await scrape(client), 'istio_tcp_connections_closed_total', labels), (n) => n === 1);
    assert.equal(total(await scrape(client), 'istio_tcp_connections_opened_total', labels), 1);
  });
});
