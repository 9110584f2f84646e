// The cluster a telemetry provider's collector is reached through: the outbound cluster of the
// provider's service and port (`outbound|<port>||<host>`), when the mesh knows that service.
import type { MeshSnapshot } from '../../registry/model.ts';
import { outboundClusterName } from '../names.ts';

export interface Collector {
  host: string;
  port: number;
  cluster: string;
}

/**
 * `service` as Istio writes it (`host` or `namespace/host`; a short `name.namespace` is tried with
 * `.svc.<domain suffix>` appended). Undefined when no service of the mesh has that host and port.
 */
export function collectorFor(snapshot: MeshSnapshot, service: string, port: number): Collector | undefined {
  const host = service.includes('/') ? service.slice(service.indexOf('/') + 1) : service;
  const candidates = [host, `${host}.svc.${snapshot.config.domainSuffix}`];
  for (const name of candidates) {
    const svc = snapshot.services.find((s) => s.hostname === name && s.ports.some((p) => p.number === port));
    if (svc) return { host: svc.hostname, port, cluster: outboundClusterName(port, '', svc.hostname) };
  }
  return undefined;
}
