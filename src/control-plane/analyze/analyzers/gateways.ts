// virtualservice.GatewayAnalyzer: every gateway a VirtualService binds to (other than `mesh`)
// exists, and serves at least one of the VirtualService's hosts. A gateway reference is
// `name` (the VirtualService's namespace), `namespace/name`, or the legacy `name.namespace[...]`.
import { hostsOverlap, type Gateway, type GatewaySpec } from '../../../api/index.ts';
import type { Analyzer } from '../context.ts';
import { ReferencedResourceNotFound, VirtualServiceHostNotFoundInGateway } from '../messages.ts';

function gatewayKey(ref: string, namespace: string): { namespace: string; name: string } {
  const slash = ref.indexOf('/');
  if (slash >= 0) return { namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
  const [name, ns] = ref.split('.');
  return { namespace: ns ?? namespace, name };
}

/** The gateway's server hosts that a VirtualService of `namespace` may bind to (`ns/host` filtered, as Istio does). */
function hostsFor(gw: Gateway, namespace: string): string[] {
  return gw.spec.servers.flatMap((s) => s.hosts).flatMap((h) => {
    const slash = h.indexOf('/');
    if (slash < 0) return [h];
    const ns = h.slice(0, slash);
    const host = h.slice(slash + 1);
    const owner = ns === '.' ? gw.metadata.namespace : ns;
    return owner === '*' || owner === namespace ? [host] : [];
  });
}

export const gateways: Analyzer = {
  name: 'virtualservice.GatewayAnalyzer',
  description: 'Checks the gateways associated with each virtual service',
  analyze(ctx) {
    for (const vs of ctx.virtualServices) {
      for (const ref of vs.spec.gateways ?? []) {
        if (ref === 'mesh') continue;
        const key = gatewayKey(ref, vs.metadata.namespace);
        const gw: Gateway | undefined = ctx.get<GatewaySpec>('Gateway', key.namespace, key.name);
        if (!gw) {
          ctx.report(vs, ReferencedResourceNotFound, 'gateway', ref);
          continue;
        }
        const served = hostsFor(gw, vs.metadata.namespace);
        const hosts = vs.spec.hosts ?? [];
        if (!served.some((g) => hosts.some((h) => hostsOverlap(g, h)))) {
          ctx.report(vs, VirtualServiceHostNotFoundInGateway, hosts, `${vs.metadata.namespace}/${vs.metadata.name}`, `${key.namespace}/${key.name}`);
        }
      }
    }
  },
};
