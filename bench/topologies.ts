// What the benchmark measures: the same upstream reached directly, through HAProxy and through Weft.
// Each proxy topology is a chain of two proxies; the pair is measured end to end for latency, and
// its second proxy (the one in front of the upstream) alone for throughput.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mesh } from '../test/harness/mesh.ts';
import { startProcess, type ManagedProcess } from '../test/harness/process.ts';
import { pinProcess, type Placement } from './cpu-pinning.ts';
import { startHaproxyChain, stopHop } from './haproxy.ts';
import { waitAnswers, waitReady } from './probe.ts';

const upstreamScript = fileURLToPath(new URL('./upstream.ts', import.meta.url));

/** Where the load generator sends, and the processes whose CPU and memory count for it. */
export interface Target {
  name: string;
  port: number;
  host: string;
  proxyPids: number[];
}

export interface Topology {
  /** Two proxies in a row (client side, server side). */
  pair: Target;
  /** One proxy in front of the upstream. */
  single: Target;
  stop(): Promise<void>;
}

/** The Host every request carries: the mesh's service name and port. */
export const serviceHost = 'upstream:9080';

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

export async function startUpstream(placement: Placement): Promise<ManagedProcess<{ port: number }>> {
  return startProcess<{ port: number }>('upstream', [upstreamScript], { env: { BENCH_CPUS: placement.loadCpus ?? '' } });
}

export function direct(upstreamPort: number): Target {
  return { name: 'direct', port: upstreamPort, host: serviceHost, proxyPids: [] };
}

export async function startHaproxy(upstreamPort: number, placement: Placement): Promise<Topology> {
  const [client, server] = await startHaproxyChain(2, upstreamPort, placement.proxyCpus);
  return {
    pair: { name: 'HAProxy pair', port: client.port, host: serviceHost, proxyPids: [client.proc.pid, server.proc.pid] },
    single: { name: 'HAProxy', port: server.port, host: serviceHost, proxyPids: [server.proc.pid] },
    stop: async () => { await Promise.all([stopHop(client), stopHop(server)]); },
  };
}

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
function telemetryConfig(variant: WeftVariant): string {
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

/**
 * A control plane, the ServiceEntry, the upstream's sidecar (inbound 9080 → the upstream) and a
 * client sidecar (outbound only). Clients send to the client sidecar's outbound port with
 * Host upstream:9080; it routes to the upstream's sidecar, which forwards to the upstream.
 */
export async function startWeft(upstreamPort: number, placement: Placement, variant: WeftVariant = {}): Promise<Topology> {
  const meshConfig = meshConfigFor(variant);
  let meshConfigFile: string | undefined;
  if (meshConfig !== '') {
    meshConfigFile = join(await mkdtemp(join(tmpdir(), 'weft-bench-mesh-')), 'mesh.yaml');
    await writeFile(meshConfigFile, meshConfig);
  }
  const mesh = await Mesh.start(meshConfigFile ? { controlPlaneArgs: ['--mesh-config', meshConfigFile] } : {});
  const suffix = [variant.mtls ? 'mTLS' : '', variant.telemetry === 'none' ? 'no telemetry' : variant.telemetry === 'tracing' ? 'metrics + 1% tracing' : '']
    .filter(Boolean).join(', ');
  const label = suffix === '' ? '' : ` (${suffix})`;
  try {
    pinProcess(mesh.controlPlane.pid, placement.loadCpus);
    await mesh.apply(upstreamServiceEntry);
    await mesh.apply(meshPolicies);
    await mesh.apply(peerAuthentication(variant.mtls ? 'STRICT' : 'DISABLE'));
    const telemetry = telemetryConfig(variant);
    if (telemetry !== '') await mesh.apply(telemetry);
    const server = await mesh.startProxy({
      name: 'upstream', labels: { app: 'upstream' }, inbound: [{ servicePort: 9080, appPort: upstreamPort }], outbound: false,
    });
    const client = await mesh.startProxy({ name: 'client', labels: { app: 'client' }, inbound: [] });
    for (const proxy of [server, client]) pinProcess(proxy.pid, placement.proxyCpus);
    await Promise.all([waitReady('upstream sidecar', server.ready.adminPort), waitReady('client sidecar', client.ready.adminPort)]);
    const inboundPort = server.ready.inbound[0].port;
    const outboundPort = client.ready.outboundPort!;
    if (!variant.mtls) await waitAnswers('a request through the upstream sidecar', inboundPort, serviceHost);
    await waitAnswers('a request through the client and upstream sidecars', outboundPort, serviceHost);
    return {
      pair: { name: `Weft sidecar pair${label}`, port: outboundPort, host: serviceHost, proxyPids: [client.pid, server.pid] },
      single: { name: `Weft sidecar${label}`, port: inboundPort, host: serviceHost, proxyPids: [server.pid] },
      stop: () => mesh.stop(),
    };
  } catch (err) {
    await mesh.stop();
    throw err;
  }
}
