// virtualservice.DestinationHostAnalyzer: every host a VirtualService routes or mirrors to is a
// service in the registry (a ServiceEntry host visible where the VirtualService applies), and the
// port a destination names is one of that service's ports. A destination without a port is
// ambiguous when the service has several (IST0112), as Istio's analyzer reports.
import type { Analyzer } from '../context.ts';
import { ReferencedResourceNotFound, VirtualServiceDestinationPortSelectorRequired } from '../messages.ts';
import { routeDestinations } from '../route-destinations.ts';

export const destinationHosts: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts associated with each virtual service',
  analyze(ctx) {
    for (const vs of ctx.virtualServices) {
      for (const { destination: d, mirror } of routeDestinations(vs)) {
        const se = ctx.findServiceEntry(d.host, vs.metadata.namespace, vs.spec.exportTo);
        if (!se) {
          ctx.report(vs, ReferencedResourceNotFound, mirror ? 'mirror host' : 'host', d.host);
          continue;
        }
        const ports = (se.spec.ports ?? []).map((p) => p.number);
        if (d.port === undefined) {
          if (ports.length > 1) ctx.report(vs, VirtualServiceDestinationPortSelectorRequired, d.host, ports);
        } else if (!ports.includes(d.port.number)) {
          ctx.report(vs, ReferencedResourceNotFound, 'host:port', `${d.host}:${d.port.number}`);
        }
      }
    }
  },
};
