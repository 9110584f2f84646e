// The destinations a VirtualService sends traffic to, for analyzers that check them: route
// destinations of its http, tls and tcp rules, and the hosts its http rules mirror to.
import type { Destination, VirtualService } from '../../api/index.ts';

export interface RouteDestination {
  readonly destination: Destination;
  /** true for http[].mirror and http[].mirrors[].destination. */
  readonly mirror: boolean;
}

export function routeDestinations(vs: VirtualService): RouteDestination[] {
  const out: RouteDestination[] = [];
  const spec = vs.spec;
  for (const rule of [...(spec.tcp ?? []), ...(spec.tls ?? []), ...(spec.http ?? [])]) {
    for (const r of rule.route ?? []) out.push({ destination: r.destination, mirror: false });
  }
  for (const rule of spec.http ?? []) {
    if (rule.mirror) out.push({ destination: rule.mirror, mirror: true });
    for (const m of rule.mirrors ?? []) out.push({ destination: m.destination, mirror: true });
  }
  return out;
}
