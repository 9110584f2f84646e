// The connection manager's `tracing` field: what cannot be honoured is rejected with the field named,
// and without the field nothing is traced and trace headers pass through untouched.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { otelTracing, startApp, type App } from './support/traced-mesh.ts';

type Obj = Record<string, unknown>;
const harnesses: Harness[] = [];
const apps: App[] = [];

after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  await Promise.all(apps.map((a) => a.close()));
});

async function proxyWithTracing(tracing: Obj | undefined, appPort = 1): Promise<Harness> {
  const h = new Harness();
  harnesses.push(h);
  await h.apply({
    clusters: [staticCluster('app', [appPort]), staticCluster('otel-collector', [1])],
    listeners: [httpListener('outbound', {
      routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])]),
      hcm: tracing === undefined ? {} : { tracing },
    })],
  });
  return h;
}

function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

describe('tracing config rejections name the field', () => {
  const withProvider = (typed: Obj): Obj => ({ provider: { name: 'custom', typed_config: typed } });
  const cases: [string, Obj, RegExp][] = [
    ['an unknown tracer', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.DatadogConfig' }), /tracing\.provider\.typed_config \(custom\): tracer type .*DatadogConfig is not supported/],
    ['a percentage above 100', otelTracing(150), /tracing\.random_sampling\.value 150 is out of range/],
    ['OTLP over gRPC', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig', grpc_service: { envoy_grpc: { cluster_name: 'otel' } } }),
      /tracing\.provider\.typed_config\.grpc_service is not supported/],
    ['an OTLP http_uri without a cluster', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig', http_service: { http_uri: { uri: 'http://collector:4318/v1/traces' } } }),
      /tracing\.provider\.typed_config\.http_service\.http_uri\.cluster is required/],
    ['an OTLP uri that is not a URI', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig', http_service: { http_uri: { uri: 'collector', cluster: 'c' } } }),
      /http_uri\.uri "collector" is not an absolute URI/],
    ['Zipkin over protobuf', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_cluster: 'zipkin', collector_endpoint: '/api/v2/spans', collector_endpoint_version: 'HTTP_PROTO' }),
      /collector_endpoint_version HTTP_PROTO is not supported/],
    ['Zipkin without a collector cluster', withProvider({ '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_endpoint: '/api/v2/spans' }),
      /collector_cluster is required/],
    ['a custom tag of two kinds', otelTracing(1, { custom_tags: [{ tag: 't', literal: { value: 'a' }, environment: { name: 'HOME' } }] }),
      /tracing\.custom_tags\[0\] must set exactly one of literal, environment, request_header, metadata/],
    ['a metadata custom tag', otelTracing(1, { custom_tags: [{ tag: 't', metadata: { kind: { request: {} } } }] }), /tracing\.custom_tags\[0\]\.metadata is not supported/],
    ['an upstream span per request', otelTracing(1, { spawn_upstream_span: { value: true } }), /tracing\.spawn_upstream_span true is not supported/],
  ];
  for (const [what, tracing, message] of cases) {
    it(`rejects ${what}`, async () => {
      const h = new Harness();
      harnesses.push(h);
      await assert.rejects(h.apply({
        clusters: [staticCluster('app', [1])],
        listeners: [httpListener('outbound', {
          routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])]),
          hcm: { tracing },
        })],
      }), rejected(message));
    });
  }
});

it('accepts the tracing config Istio generates for OpenTelemetry', async () => {
  await proxyWithTracing(otelTracing(1, {
    client_sampling: { value: 100 }, overall_sampling: { value: 100 }, max_path_tag_length: { value: 256 },
    custom_tags: [{ tag: 'istio.canonical_service', literal: { value: 'reviews' } }],
  }));
});

it('without a tracing field trace headers pass through untouched and none are added', async () => {
  const app = await startApp('reviews');
  apps.push(app);
  const h = await proxyWithTracing(undefined, app.port);
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const reply = await send(h.port(), '/', { headers: { traceparent, b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } });
  assert.equal(reply.status, 200);
  const seen = app.received.at(-1)!;
  assert.equal(seen.traceparent, traceparent);
  assert.equal(seen.b3, '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1');
  assert.equal(seen['x-b3-traceid'], undefined);

  await send(h.port(), '/');
  assert.equal(app.received.at(-1)!.traceparent, undefined);
});

it('with a tracing field but no sampled flag the proxy starts a trace the application can continue', async () => {
  const app = await startApp('reviews');
  apps.push(app);
  const h = await proxyWithTracing(otelTracing(0), app.port);
  await send(h.port(), '/');
  const seen = app.received.at(-1)!;
  assert.match(seen.traceparent as string, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.equal(seen['x-b3-sampled'], '0');
});
