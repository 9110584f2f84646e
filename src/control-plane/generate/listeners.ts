// Listeners: the explicit outbound HTTP listener (applications send to it, or use it as their
// HTTP_PROXY) and one inbound listener per service port the workload serves.
import { TypeUrl } from '../../xds/type-urls.ts';
import type { ProxyNode } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { inboundClusterName, inboundListenerName, outboundHttpListenerName, outboundHttpRouteName } from './names.ts';

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': TypeUrl.Router } };

function httpConnectionManager(statPrefix: string, routeSpecifier: EnvoyResource): EnvoyResource {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': TypeUrl.HttpConnectionManager,
      stat_prefix: statPrefix,
      ...routeSpecifier,
      http_filters: [router],
    },
  };
}

export function outboundListeners(proxy: ProxyNode): EnvoyResource[] {
  const port = proxy.metadata.outboundPort;
  if (port === undefined) return [];
  return [{
    name: outboundHttpListenerName,
    address: socketAddress('127.0.0.1', port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [{
      filters: [httpConnectionManager(outboundHttpListenerName, {
        rds: { route_config_name: outboundHttpRouteName, config_source: { ads: {}, resource_api_version: 'V3' } },
      })],
    }],
  }];
}

export function inboundListeners(proxy: ProxyNode): EnvoyResource[] {
  return proxy.metadata.inbound.map((p) => {
    const name = inboundListenerName(p.servicePort);
    return {
      name,
      address: socketAddress(proxy.metadata.address, p.port),
      traffic_direction: 'INBOUND',
      filter_chains: [{
        filters: [httpConnectionManager(name, {
          route_config: {
            name,
            virtual_hosts: [{
              name: `inbound|http|${p.servicePort}`,
              domains: ['*'],
              routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: inboundClusterName(p.servicePort), timeout: { seconds: 0 } } }],
            }],
          },
        })],
      }],
    };
  });
}
