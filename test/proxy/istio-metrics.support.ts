// Two sidecars back to back for the Istio standard metrics tests: a client's sidecar (productpage)
// whose OUTBOUND listener sends to the server's sidecar (reviews) through the cluster
// `outbound|9080||reviews.default.svc.cluster.local`, whose endpoint carries the server's
// istio.workload metadata; the server's INBOUND listener hands requests to the app. Scrapes are read
// from each proxy's registry, as /stats/prometheus serves it.
import type { ProxyNodeInfo } from '../../src/proxy/http/stream-observers.ts';
import { Harness } from './support/harness.ts';

type Obj = Record<string, unknown>;

export const istioLabelNames = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'source_canonical_service', 'source_canonical_revision', 'source_cluster', 'destination_workload',
  'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_canonical_service',
  'destination_canonical_revision', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status',
  'response_flags', 'connection_security_policy',
];

export function sidecarNode(workload: string, app: string, version: string, namespace = 'default'): ProxyNodeInfo {
  return {
    id: `sidecar~127.0.0.1~${workload}-abc.${namespace}~${namespace}.svc.cluster.local`,
    metadata: { NAMESPACE: namespace, WORKLOAD_NAME: workload, LABELS: { app, version }, CLUSTER_ID: 'Kubernetes', SERVICE_ACCOUNT: app },
  };
}

/** A data plane in-process that knows its own node (as the xDS client passes it). */
export function sidecar(node: ProxyNodeInfo): Harness {
  return new Harness({ node } as ConstructorParameters<typeof Harness>[0]);
}

/** An endpoint with Istio's workload metadata (`<workload>;<namespace>;<app>;<version>;<cluster>`). */
export function workloadEndpoint(port: number, workload: string): Obj {
  return {
    endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
    metadata: { filter_metadata: { istio: { fields: { workload: { stringValue: workload } } } } },
  };
}

export function assignmentOf(clusterName: string, lbEndpoints: Obj[]): Obj {
  return { cluster_name: clusterName, endpoints: [{ locality: {}, lb_endpoints: lbEndpoints }] };
}

export type Sample = { name: string; labels: Record<string, string>; value: number };

/** Every sample of the scraped Prometheus text. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let l = re.exec(m[2] ?? ''); l !== null; l = re.exec(m[2] ?? '')) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export async function scrape(harness: Harness): Promise<Sample[]> {
  return parseSamples(await harness.stats.registry.metrics());
}

/** The samples of a metric whose labels include these. */
export function matching(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return matching(samples, name, labels).reduce((sum, s) => sum + s.value, 0);
}
