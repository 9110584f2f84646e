// A small traced mesh in-process: services each made of an application server and its sidecar (a
// DataPlane with an inbound and an outbound listener, and the proxy's node metadata as Istio sends it).
// An application that has a next service calls it through its own sidecar's outbound listener and
// copies the trace headers from the request it is serving, as an instrumented application does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/common/log.ts';
import { DataPlane } from '../../../src/proxy/data-plane.ts';
import { ProxyStats } from '../../../src/proxy/telemetry/stats.ts';
import { httpConnectionManager, listener, route, routeConfig, routeTo, staticCluster, virtualHost } from './resources.ts';

type Obj = Record<string, unknown>;

/** Headers an application copies from the request it serves to the requests it makes. */
const propagated = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'x-request-id'];

export type App = {
  port: number;
  /** The headers of every request the application received. */
  received: http.IncomingHttpHeaders[];
  /** Where the application sends its own request (its sidecar's outbound port and the next service's host); null: it answers alone. */
  next: { port: number; host: string } | null;
  close(): Promise<void>;
};

export function startApp(name: string): Promise<App> {
  const app: App = { port: 0, received: [], next: null, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    app.received.push(req.headers);
    req.resume();
    req.on('end', () => {
      const next = app.next;
      if (next === null) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ service: name }));
        return;
      }
      const headers: Record<string, string> = { host: next.host };
      for (const h of propagated) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const out = http.request({ host: '127.0.0.1', port: next.port, path: req.url, headers, agent: false }, (upstream) => {
        const chunks: Buffer[] = [];
        upstream.on('data', (c: Buffer) => chunks.push(c));
        upstream.on('end', () => {
          res.writeHead(upstream.statusCode ?? 502, { 'content-type': 'application/json' })
            .end(JSON.stringify({ service: name, next: Buffer.concat(chunks).toString() }));
        });
      });
      out.on('error', () => res.writeHead(502).end());
      out.end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      app.port = (server.address() as AddressInfo).port;
      app.close = () => new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      });
      resolve(app);
    });
  });
}

export type Sidecar = {
  dataPlane: DataPlane;
  stats: ProxyStats;
  inboundPort: number;
  outboundPort: number;
  close(): Promise<void>;
};

export type SidecarOptions = {
  /** The workload's app label and namespace (Istio's node metadata). */
  app: string;
  namespace: string;
  appPort: number;
  /** The next service: its host (`reviews:9080`) and its sidecar's inbound port. */
  next?: { host: string; port: number };
  /** The connection managers' `tracing` field; undefined: none. */
  tracing?: Obj;
  /** Extra clusters (the collector's). */
  clusters?: Obj[];
};

/** A sidecar: the inbound listener routes to the application, the outbound one to the next service. */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const stats = new ProxyStats();
  const dataPlane = new DataPlane({
    logger: silentLogger,
    stats,
    node: {
      id: `sidecar~127.0.0.1~${options.app}-v1.${options.namespace}~${options.namespace}.svc.cluster.local`,
      metadata: {
        NAMESPACE: options.namespace,
        WORKLOAD_NAME: `${options.app}-v1`,
        MESH_ID: 'cluster.local',
        LABELS: { app: options.app, version: 'v1', 'service.istio.io/canonical-name': options.app, 'service.istio.io/canonical-revision': 'v1' },
      },
    },
  });
  const inboundCluster = 'inbound|9080||';
  const clusters: Obj[] = [staticCluster(inboundCluster, [options.appPort]), ...(options.clusters ?? [])];
  const nextCluster = options.next ? `outbound|9080||${options.next.host.split(':')[0]}` : null;
  if (options.next && nextCluster) clusters.push(staticCluster(nextCluster, [options.next.port]));
  const hcm = (name: string, cluster: string): Obj => httpConnectionManager({
    statPrefix: name,
    routeConfig: routeConfig(name, [virtualHost(name, ['*'], [route({ prefix: '/' }, routeTo(cluster), 'default')])]),
    extra: options.tracing === undefined ? {} : { tracing: options.tracing },
  });
  const listeners = [listener('virtualInbound', hcm('inbound_0.0.0.0_9080', inboundCluster), { extra: { traffic_direction: 'INBOUND' } })];
  if (nextCluster) listeners.push(listener('virtualOutbound', hcm('outbound_0.0.0.0_9080', nextCluster), { extra: { traffic_direction: 'OUTBOUND' } }));
  dataPlane.updateClusters(clusters);
  await dataPlane.updateListeners(listeners);
  const addresses = dataPlane.listenerAddresses();
  const portOf = (name: string): number => addresses.find((a) => a.name === name)?.port ?? 0;
  return { dataPlane, stats, inboundPort: portOf('virtualInbound'), outboundPort: portOf('virtualOutbound'), close: () => dataPlane.close() };
}

/** An OTLP/HTTP provider for the connection manager's `tracing`, to the collector cluster `otel-collector`. */
export function otelTracing(percent: number | undefined, extra: Obj = {}): Obj {
  return {
    ...(percent === undefined ? {} : { random_sampling: { value: percent } }),
    provider: {
      name: 'envoy.tracers.opentelemetry',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        http_service: { http_uri: { uri: 'http://otel-collector.observability.svc.cluster.local:4318/v1/traces', cluster: 'otel-collector', timeout: { seconds: '5' } } },
        service_name: '',
      },
    },
    ...extra,
  };
}

/** A Zipkin provider as Istio configures it, to the collector cluster `zipkin`. */
export function zipkinTracing(percent: number | undefined, extra: Obj = {}): Obj {
  return {
    ...(percent === undefined ? {} : { random_sampling: { value: percent } }),
    provider: {
      name: 'envoy.tracers.zipkin',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
        collector_cluster: 'zipkin',
        collector_endpoint: '/api/v2/spans',
        collector_endpoint_version: 'HTTP_JSON',
        trace_id_128bit: true,
        shared_span_context: { value: false },
      },
    },
    ...extra,
  };
}

/** The chain productpage → reviews → ratings, each behind its sidecar; the test calls productpage's inbound listener. */
export type Chain = { apps: App[]; sidecars: Sidecar[]; entryPort: number; close(): Promise<void> };

export async function startChain(tracing: Obj | undefined, collector: Obj): Promise<Chain> {
  const names = ['productpage', 'reviews', 'ratings'];
  const apps = await Promise.all(names.map((n) => startApp(n)));
  const sidecars: Sidecar[] = [];
  // From the end of the chain: each sidecar's outbound cluster needs the next sidecar's inbound port.
  for (let i = names.length - 1; i >= 0; i--) {
    const next = i + 1 < names.length ? { host: `${names[i + 1]}:9080`, port: sidecars[0].inboundPort } : undefined;
    const sidecar = await startSidecar({ app: names[i], namespace: 'default', appPort: apps[i].port, next, tracing, clusters: [collector] });
    sidecars.unshift(sidecar);
    if (next) apps[i].next = { port: sidecar.outboundPort, host: next.host };
  }
  return {
    apps,
    sidecars,
    entryPort: sidecars[0].inboundPort,
    close: async () => {
      await Promise.all(sidecars.map((s) => s.close()));
      await Promise.all(apps.map((a) => a.close()));
    },
  };
}
