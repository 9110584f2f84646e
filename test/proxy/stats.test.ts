// Stats: Envoy's metric names and labels, with the values known traffic must produce.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const harness = new Harness();
const cluster = 'outbound|9080||reviews.default.svc.cluster.local';
const prefix = 'outbound_0.0.0.0_9080';
let upstream: Upstream;
let agent: http.Agent;

before(async () => {
  upstream = await startUpstream('reviews', (req, res) => {
    req.resume();
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end('x');
  });
  await harness.apply({
    clusters: [edsCluster(cluster)],
    endpoints: [assignment(cluster, [upstream.port, { port: upstream.port, address: '127.0.0.2', health: 'UNHEALTHY' }])],
    listeners: [httpListener('outbound', { rds: 'routes', statPrefix: prefix })],
    routes: [routeConfig('routes', [virtualHost('reviews', ['*'], [
      route({ prefix: '/ok' }, routeTo(cluster)),
      route({ prefix: '/fail' }, routeTo(cluster)),
    ])])],
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = harness.port();
  for (let i = 0; i < 3; i++) await send(port, '/ok', { agent });
  await send(port, '/fail', { agent });
  await send(port, '/nowhere', { agent });
});

after(async () => {
  agent.destroy();
  await harness.close();
  await upstream.close();
});

describe('stats after 3 OK, 1 upstream 500 and 1 unrouted request on one keep-alive connection', () => {
  const c = { envoy_cluster_name: cluster };
  const h = { envoy_http_conn_manager_prefix: prefix };

  it('counts upstream requests by cluster and by response code', async () => {
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_total', c), 4);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { ...c, envoy_response_code: '200' }), 3);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { ...c, envoy_response_code: '500' }), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_xx', { ...c, envoy_response_code_class: '2' }), 3);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_xx', { ...c, envoy_response_code_class: '5' }), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_active', c), 0);
  });

  it('counts upstream connections (one pooled connection, still open)', async () => {
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_total', c), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_active', c), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_connect_fail', c), 0);
  });

  it('reports cluster membership', async () => {
    assert.equal(await harness.metric('envoy_cluster_membership_total', c), 2);
    assert.equal(await harness.metric('envoy_cluster_membership_healthy', c), 1);
  });

  it('counts downstream requests by connection manager and response class, and unrouted ones', async () => {
    assert.equal(await harness.metric('envoy_http_downstream_rq_total', h), 5);
    assert.equal(await harness.metric('envoy_http_downstream_rq_xx', { ...h, envoy_response_code_class: '2' }), 3);
    assert.equal(await harness.metric('envoy_http_downstream_rq_xx', { ...h, envoy_response_code_class: '4' }), 1);
    assert.equal(await harness.metric('envoy_http_downstream_rq_xx', { ...h, envoy_response_code_class: '5' }), 1);
    assert.equal(await harness.metric('envoy_http_no_route', h), 1);
    assert.equal(await harness.metric('envoy_http_downstream_cx_total', h), 1);
    assert.equal(await harness.metric('envoy_http_downstream_rq_active', h), 0);
  });

  it('renders the Prometheus text with Envoy names and labels', async () => {
    const text = await harness.stats.registry.metrics();
    assert.match(text, new RegExp(`^envoy_cluster_upstream_rq_total\\{envoy_cluster_name="${cluster.replace(/[|.]/g, '\\$&')}"\\} 4$`, 'm'));
    assert.match(text, /^# TYPE envoy_cluster_upstream_cx_active gauge$/m);
    assert.match(text, /^# TYPE envoy_http_downstream_rq_total counter$/m);
  });

  it('uses a registry of its own, not prom-client\'s global one', async () => {
    const { register } = await import('prom-client');
    assert.equal(register.getSingleMetric('envoy_cluster_upstream_rq_total'), undefined);
  });
});
