// Host names as Istio resolves them: short names are relative to the namespace of the resource
// that names them, and a service is reachable by every name Kubernetes DNS would give it.
import { fqdn } from '../../api/hosts.ts';
import type { MeshSnapshot, Service } from '../registry/model.ts';

export function resolveHost(host: string, namespace: string, snapshot: MeshSnapshot): string {
  return fqdn(host, namespace, snapshot.config.domainSuffix);
}

/** Istio's host matching: exact, or `*.suffix` wildcards on either side. */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === hostname || pattern === '*') return true;
  if (pattern.startsWith('*')) return hostname.endsWith(pattern.slice(1));
  return false;
}

export function findService(snapshot: MeshSnapshot, hostname: string): Service | undefined {
  return snapshot.services.find((s) => s.hostname === hostname);
}

/**
 * The names an application may use for a service in the Host header: the FQDN and, for
 * cluster-local names, the short forms Kubernetes DNS search paths give (name.ns.svc, name.ns, and
 * the bare name from the same namespace). `withoutPort` adds the forms with no port, for the one
 * port of the service that owns them.
 */
export function hostAliases(service: Service, port: number, suffix: string, fromNamespace: string, withoutPort: boolean): string[] {
  const names = [service.hostname];
  const local = `.svc.${suffix}`;
  if (service.hostname.endsWith(local)) {
    const base = service.hostname.slice(0, -local.length); // name.ns
    const dot = base.indexOf('.');
    names.push(`${base}.svc`, base);
    if (dot > 0 && base.slice(dot + 1) === fromNamespace) names.push(base.slice(0, dot));
  }
  const out = names.map((n) => `${n}:${port}`);
  if (withoutPort) out.push(...names);
  return out;
}

/** An IPv4 or IPv6 literal (the registry keeps names only for DNS services). */
export function isIpAddress(address: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.includes(':');
}
