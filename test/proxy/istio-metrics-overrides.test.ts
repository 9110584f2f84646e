// The `istio.stats` filter (a TypedStruct of Istio's stats.PluginConfig, as the control plane writes
// Telemetry metrics overrides): tags_to_remove takes a label off a metric, drop disables a metric,
// dimensions add labels from request attributes; a TypedStruct of an unknown type is skipped when the
// filter is optional and rejected when it is not; a bad override is rejected naming the field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { sendMany } from './support/client.ts';
import {
  httpConnectionManager, listener, route, routeConfig, routeTo, routerFilter, staticCluster, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { matching, scrape, sidecar, sidecarNode } from './istio-metrics.support.ts';

type Obj = Record<string, unknown>;

const proxy = sidecar(sidecarNode('productpage-v1', 'productpage', 'v1'));
let app: Upstream;

function istioStats(value: Obj, extra: Obj = {}): Obj {
  return {
    name: 'istio.stats',
    typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/stats.PluginConfig', value },
    ...extra,
  };
}

function statsListener(name: string, filters: Obj[]): Obj {
  return listener(name, httpConnectionManager({
    statPrefix: name,
    routeConfig: routeConfig(name, [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('outbound|9080||details.default.svc.cluster.local'))])]),
    httpFilters: [...filters, routerFilter],
  }));
}

before(async () => {
  app = await startUpstream('details');
  await proxy.apply({
    clusters: [staticCluster('outbound|9080||details.default.svc.cluster.local', [app.port])],
    listeners: [statsListener('overridden', [
      // As the control plane sends it: the Struct in its wire shape.
      istioStats({
        fields: {
          metrics: {
            listValue: {
              values: [
                { structValue: { fields: { name: { stringValue: 'requests_total' }, tags_to_remove: { listValue: { values: [{ stringValue: 'source_version' }] } } } } },
                { structValue: { fields: { name: { stringValue: 'requests_total' }, dimensions: { structValue: { fields: { request_method: { stringValue: 'request.method' }, mesh: { stringValue: "'weft'" } } } } } } },
                { structValue: { fields: { name: { stringValue: 'request_bytes' }, drop: { boolValue: true } } } },
              ],
            },
          },
        },
      }, { is_optional: true }),
      {
        name: 'istio.something_else', is_optional: true,
        typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/istio.unknown.Thing', value: {} },
      },
    ])],
  });
});

after(async () => {
  await proxy.close();
  await app?.close();
});

describe('istio.stats metric overrides', () => {
  it('removes a tag, adds dimensions and drops a metric, leaving the other metrics whole', async () => {
    await sendMany(2, proxy.port('overridden'), '/x');
    const samples = await scrape(proxy);
    const requests = matching(samples, 'istio_requests_total', { destination_service_name: 'details' });
    assert.equal(requests.length, 1);
    assert.equal(requests[0].value, 2);
    assert.equal(requests[0].labels.source_version, undefined, 'source_version was removed');
    assert.equal(requests[0].labels.request_method, 'GET');
    assert.equal(requests[0].labels.mesh, 'weft');
    assert.equal(requests[0].labels.source_workload, 'productpage-v1');
    assert.equal(matching(samples, 'istio_request_bytes_count').length, 0, 'istio_request_bytes was dropped');
    const duration = matching(samples, 'istio_request_duration_milliseconds_count', { destination_service_name: 'details' });
    assert.equal(duration.length, 1);
    assert.equal(duration[0].value, 2);
    assert.equal(duration[0].labels.source_version, 'v1', 'other metrics keep their labels');
  });

  it('rejects a TypedStruct of an unknown type when the filter is not optional', async () => {
    await assert.rejects(proxy.apply({
      listeners: [statsListener('strict', [{
        name: 'istio.something_else',
        typed_config: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', type_url: 'type.googleapis.com/istio.unknown.Thing', value: {} },
      }])],
    }), (err: Error) => err instanceof ConfigRejectedError && /istio\.unknown\.Thing is not supported/.test(err.message));
  });

  it('rejects an override with an unsupported expression, naming the dimension', async () => {
    await assert.rejects(proxy.apply({
      listeners: [statsListener('bad', [istioStats({ metrics: [{ name: 'requests_total', dimensions: { peer: 'upstream_peer.labels' } }] })])],
    }), (err: Error) => err instanceof ConfigRejectedError && /metrics\[0\]\.dimensions\.peer "upstream_peer\.labels" is not a supported expression/.test(err.message));
    await assert.rejects(proxy.apply({
      listeners: [statsListener('bad', [istioStats({ metrics: [{ name: 'requests', drop: true }] })])],
    }), (err: Error) => err instanceof ConfigRejectedError && /metrics\[0\]\.name "requests" is not one of/.test(err.message));
  });
});
