// Builds a mesh from Istio YAML and a mesh config, generates one proxy's resources, and picks out the
// parts telemetry changes: each listener's connection managers and tcp_proxy filters.
import assert from 'node:assert/strict';
import { parseManifests, parseMeshConfig } from '../../../../src/api/index.ts';
import { generateProxyConfig } from '../../../../src/control-plane/generate/index.ts';
import { outboundListeners } from '../../../../src/control-plane/generate/listeners.ts';
import { visibleSnapshot } from '../../../../src/control-plane/generate/visibility.ts';
import { buildMeshSnapshot } from '../../../../src/control-plane/registry/registry.ts';
import { defaultMeshConfig, type MeshConfig, type ProxyNode } from '../../../../src/control-plane/registry/model.ts';
import { TypeUrl } from '../../../../src/xds/type-urls.ts';
import { encodeResource } from '../../../../src/control-plane/server/snapshot.ts';
import { loadEnvoyProtos } from '../../../../src/xds/protos.ts';
import type { ProxyMetadata } from '../../../../src/xds/node-metadata.ts';

export type Json = Record<string, any>;

/** A sidecar for reviews-v1 in bookinfo: outbound HTTP on 15001, inbound HTTP 9080 and TCP 9090. */
export function sidecar(overrides: Partial<ProxyMetadata> = {}): ProxyNode {
  return {
    id: 'reviews-v1.bookinfo',
    metadata: {
      namespace: 'bookinfo', workloadName: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'reviews',
      address: '127.0.0.1', outboundPort: 15001,
      inbound: [{ servicePort: 9080, port: 15006, appPort: 19080 }, { servicePort: 9090, port: 15007, appPort: 19090 }],
      ...overrides,
    },
  };
}

/** Services of the examples: reviews (HTTP 9080, TCP 9090), an OTLP collector and a Zipkin collector. */
export const SERVICES = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: bookinfo }
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }, { number: 9090, name: tcp, protocol: TCP }]
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: otel-collector, namespace: observability }
spec:
  hosts: [otel-collector.observability.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 4318, name: http-otlp, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: zipkin, namespace: istio-system }
spec:
  hosts: [zipkin.istio-system.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9411, name: http-zipkin, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1 }]
`;

export interface Generated {
  /** Listener name → its filters (first filter chain, else the default chain). */
  listeners: Map<string, Json>;
  warnings: string[];
}

export function meshConfig(yaml: string): MeshConfig {
  const parsed = parseMeshConfig(yaml, 'mesh.yaml');
  assert.deepEqual(parsed.errors.map(String), []);
  const { ignored: _ignored, ...fields } = parsed.config;
  return { ...defaultMeshConfig, ...fields };
}

/** Generates `proxy`'s config; the sidecar's outbound HTTP listener is built with the mesh so it carries telemetry. */
export function generate(yaml: string, meshYaml = '', proxy: ProxyNode = sidecar()): Generated {
  const { resources, errors } = parseManifests(`${SERVICES}\n---\n${yaml}`, { source: 'input.yaml' });
  assert.deepEqual(errors.map((e) => e.text), []);
  const of = (kind: string) => resources.filter((r) => r.kind === kind) as any[];
  const mesh = buildMeshSnapshot({
    config: meshConfig(meshYaml),
    serviceEntries: of('ServiceEntry'), workloadEntries: [], virtualServices: of('VirtualService'), destinationRules: [],
    gateways: of('Gateway'), proxies: new Map([[proxy.id, proxy.metadata]]),
  });
  mesh.telemetries = of('Telemetry');
  const generated = generateProxyConfig(mesh, proxy);
  const warnings = [...generated.warnings];
  const listeners = new Map<string, Json>();
  const all = generated.resources[TypeUrl.Listener] as Json[];
  const outbound = proxy.metadata.gateway ? [] : outboundListeners(proxy, visibleSnapshot(mesh, proxy), warnings);
  for (const l of [...all.filter((x) => !outbound.some((o) => o.name === x.name)), ...outbound]) {
    // Every listener must survive Envoy's protos (field names are checked by encoding and decoding).
    assert.deepEqual(roundTrip(l).name, l.name);
    listeners.set(l.name, l);
  }
  return { listeners, warnings: [...new Set(warnings)] };
}

/** The listener encoded with Envoy's Listener proto and decoded again: fields Envoy does not know are gone. */
export function roundTrip(listener: Json): Json {
  const type = loadEnvoyProtos().definition['envoy.config.listener.v3.Listener'] as unknown as { deserialize(b: Buffer): Json };
  return type.deserialize(encodeResource(TypeUrl.Listener, listener.name, listener));
}

/** The typed_config of the first filter named `name` in the listener's first chain. */
export function filterConfig(listener: Json | undefined, name: string): Json | undefined {
  const chain = listener?.filter_chains?.[0] ?? listener?.default_filter_chain;
  return chain?.filters?.find((f: Json) => f.name === name)?.typed_config;
}

export const hcm = (g: Generated, listener: string) => filterConfig(g.listeners.get(listener), 'envoy.filters.network.http_connection_manager');
export const tcpProxy = (g: Generated, listener: string) => filterConfig(g.listeners.get(listener), 'envoy.filters.network.tcp_proxy');
