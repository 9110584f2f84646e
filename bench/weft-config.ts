// The mesh resources of Weft's benchmark paths: the upstream service, the policies its hot path runs
// with, peer authentication (plaintext or mTLS between sidecars) and telemetry variants.

export const upstreamServiceEntry = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: upstream, namespace: default }
spec:
  hosts: [upstream.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: upstream } }
`;

/**
 * The mesh policy the Weft path runs with, so that the hot path carries what a production mesh
 * turns on: an explicit retry policy, outlier detection on the upstream cluster, and (always on)
 * Prometheus metrics, besides the fault and CORS filters every sidecar HTTP listener has.
 */
export const meshPolicies = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: upstream, namespace: default }
spec:
  host: upstream
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: upstream, namespace: default }
spec:
  hosts: [upstream]
  http:
  - route: [{ destination: { host: upstream } }]
    retries: { attempts: 2, perTryTimeout: 2s, retryOn: "5xx,connect-failure,refused-stream" }
`;

/** Mesh-wide PeerAuthentication: plaintext between the sidecars, or mutual TLS only. */
export function peerAuthentication(mode: 'DISABLE' | 'STRICT'): string {
  return `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: ${mode} } }
`;
}

/** What the sidecars of a Weft topology run with besides routing and resilience. */
export interface WeftVariant {
  /** Mutual TLS between the sidecars (mesh-wide STRICT) instead of plaintext (DISABLE). */
  mtls?: boolean;
  /**
   * 'default': Istio's standard metrics (on by default), no tracing; 'none': metrics turned off too
   * (a Telemetry disabling ALL_METRICS); 'tracing': metrics plus tracing of 1% of requests to an
   * OTLP/HTTP collector (a sink in this process's child).
   */
  telemetry?: 'default' | 'none' | 'tracing';
  /** For 'tracing': the port of the OTLP/HTTP sink on 127.0.0.1. */
  collectorPort?: number;
}

/** Telemetry resources for a variant (mesh-wide, in the root namespace). */
export function telemetryConfig(variant: WeftVariant): string {
  if (variant.telemetry === 'none') {
    return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  metrics: [{ overrides: [{ match: { metric: ALL_METRICS }, disabled: true }] }]
`;
  }
  if (variant.telemetry === 'tracing') {
    return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: otel-collector, namespace: istio-system }
spec:
  hosts: [otel-collector.istio-system.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 4318, name: http, protocol: HTTP, targetPort: ${variant.collectorPort} }]
  endpoints: [{ address: 127.0.0.1 }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 1 }]
`;
  }
  return '';
}

/** The mesh config of a variant (the OTLP provider for 'tracing'), as a YAML file's text; '' for none. */
export function meshConfigFor(variant: WeftVariant): string {
  return variant.telemetry === 'tracing'
    ? `extensionProviders:
- name: otel
  opentelemetry: { service: otel-collector.istio-system.svc.cluster.local, port: 4318 }
`
    : '';
}
