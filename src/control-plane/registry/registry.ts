// The service registry: services from ServiceEntry, workloads from WorkloadEntry and from sidecars
// that registered over xDS, and the endpoints that join them (workloadSelector, inline endpoints).
import type { DestinationRule, Gateway, IstioResource, ServiceEntrySpec, VirtualService, WorkloadEntrySpec } from '../../api/index.ts';
import { isIP } from 'node:net';
import { localityFromLabels, type ProxyMetadata } from '../../xds/node-metadata.ts';
import type { Endpoint, MeshConfig, MeshSnapshot, Service, ServicePort, Workload } from './model.ts';

export interface RegistryInput {
  config: MeshConfig;
  serviceEntries: IstioResource<ServiceEntrySpec>[];
  workloadEntries: IstioResource<WorkloadEntrySpec>[];
  virtualServices: VirtualService[];
  destinationRules: DestinationRule[];
  gateways?: Gateway[];
  /** Sidecars that registered, by node id. */
  proxies: Map<string, ProxyMetadata>;
}

export function workloadFromEntry(we: IstioResource<WorkloadEntrySpec>, key = `WorkloadEntry/${we.metadata.namespace}/${we.metadata.name}`): Workload {
  return {
    key,
    name: we.metadata.name,
    namespace: we.metadata.namespace,
    labels: { ...(we.metadata.labels ?? {}), ...(we.spec.labels ?? {}) },
    address: we.spec.address ?? '',
    serviceAccount: we.spec.serviceAccount ?? 'default',
    locality: we.spec.locality ?? '',
    weight: we.spec.weight || 1, // Istio: an unset or zero weight counts as 1
    namedPorts: { ...(we.spec.ports ?? {}) },
    inboundPorts: new Map(),
  };
}

export function workloadFromProxy(nodeId: string, m: ProxyMetadata): Workload {
  return {
    key: `Proxy/${m.namespace}/${nodeId}`,
    name: m.workloadName || nodeId,
    namespace: m.namespace,
    labels: { ...m.labels },
    address: m.address,
    serviceAccount: m.serviceAccount,
    locality: m.locality || localityFromLabels(m.labels),
    weight: 1,
    namedPorts: {},
    inboundPorts: new Map(m.inbound.map((p) => [p.servicePort, p.port])),
  };
}


/**
 * Whether a workload runs a sidecar that accepts mutual TLS: every proxy that registered over xDS, and
 * WorkloadEntry workloads labelled `security.istio.io/tlsMode: istio` (the label Istio's sidecar
 * injection puts on workloads), as Istio's auto mTLS decides.
 */
function hasSidecar(w: Workload): boolean {
  return w.key.startsWith('Proxy/') || w.labels['security.istio.io/tlsMode'] === 'istio';
}

function matchesSelector(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The port a workload serves a service port on, as Istio resolves it; undefined = not served. */
function endpointPort(w: Workload, port: ServicePort): number | undefined {
  if (w.key.startsWith('Proxy/')) {
    return w.inboundPorts.get(port.number) ?? (port.targetPort !== undefined ? w.inboundPorts.get(port.targetPort) : undefined);
  }
  return w.namedPorts[port.name] ?? port.targetPort ?? port.number;
}

export function buildMeshSnapshot(input: RegistryInput): MeshSnapshot {
  const workloads: Workload[] = [
    ...input.workloadEntries.map((we) => workloadFromEntry(we)),
    ...[...input.proxies.entries()].map(([id, m]) => workloadFromProxy(id, m)),
  ];
  const services: Service[] = [];
  const seen = new Set<string>();
  for (const se of input.serviceEntries) {
    const spec = se.spec;
    const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
      number: p.number,
      name: p.name ?? `port-${p.number}`,
      protocol: (p.protocol ?? protocolFromName(p.name)).toUpperCase(),
      ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
    }));
    const members: Workload[] = [];
    const selector = spec.workloadSelector?.labels;
    if (selector) {
      for (const w of workloads) if (w.namespace === se.metadata.namespace && matchesSelector(selector, w.labels)) members.push(w);
    }
    (spec.endpoints ?? []).forEach((e, i) => {
      members.push(workloadFromEntry(
        { apiVersion: se.apiVersion, kind: 'WorkloadEntry', metadata: { name: `${se.metadata.name}-${i}`, namespace: se.metadata.namespace }, spec: e },
        `ServiceEntry/${se.metadata.namespace}/${se.metadata.name}#${i}`,
      ));
    });
    for (const host of spec.hosts ?? []) {
      // First definition of a host wins, as Istio takes the oldest ServiceEntry.
      if (seen.has(host)) continue;
      seen.add(host);
      const endpoints = new Map<number, Endpoint[]>();
      const dns = (spec.resolution ?? 'NONE').startsWith('DNS');
      for (const port of ports) {
        const list: Endpoint[] = [];
        for (const w of members) {
          const p = endpointPort(w, port);
          if (p === undefined || w.address === '') continue;
          // Names are resolved by the proxies, for DNS services only (Istio's rule); elsewhere only IPs count.
          if (!dns && !isIP(w.address)) continue;
          list.push({
            address: w.address, port: p, labels: w.labels, locality: w.locality, weight: w.weight, serviceAccount: w.serviceAccount, workload: w.key,
            namespace: w.namespace, workloadName: w.name, ...(hasSidecar(w) ? { tlsMode: 'istio' as const } : {}),
          });
        }
        // A DNS service without endpoints or selector resolves its own host name (Istio).
        if (dns && list.length === 0 && (spec.endpoints ?? []).length === 0 && !selector) {
          list.push({ address: host, port: port.targetPort ?? port.number, labels: {}, locality: '', weight: 1, serviceAccount: '', workload: `ServiceEntry/${se.metadata.namespace}/${se.metadata.name}` });
        }
        endpoints.set(port.number, list);
      }
      services.push({
        hostname: host,
        namespace: se.metadata.namespace,
        ports,
        resolution: spec.resolution ?? 'NONE',
        location: spec.location ?? 'MESH_EXTERNAL',
        endpoints,
        ...(spec.exportTo !== undefined ? { exportTo: spec.exportTo } : {}),
      });
    }
  }
  return {
    config: input.config,
    services,
    virtualServices: input.virtualServices,
    destinationRules: input.destinationRules,
    gateways: input.gateways ?? [],
  };
}

/** Istio's protocol selection from a port name prefix (http, http2, grpc, tcp, tls, https, mongo). */
export function protocolFromName(name: string | undefined): string {
  const prefix = (name ?? '').toLowerCase().split('-')[0];
  const known: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', grpc: 'GRPC', 'grpc-web': 'GRPC-WEB', tcp: 'TCP', tls: 'TLS', https: 'HTTPS', mongo: 'MONGO' };
  return known[prefix] ?? 'TCP';
}
