// Hand-written Envoy v3 listeners with several filter chains, listener filters and tcp_proxy options,
// shaped as the xDS client hands them to the data plane (see resources.ts for the simple ones).
import { TypeUrl } from '../../../src/xds/type-urls.ts';

type Obj = Record<string, unknown>;

export const tlsInspector: Obj = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } };
export const httpInspector: Obj = { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': TypeUrl.HttpInspector } };

/** A tcp_proxy typed config to one cluster, or split over weighted clusters (`{a: 75, b: 25}`). */
export function tcpProxy(statPrefix: string, to: string | Record<string, number>, extra: Obj = {}): Obj {
  const target = typeof to === 'string'
    ? { cluster: to }
    : { weighted_clusters: { clusters: Object.entries(to).map(([name, weight]) => ({ name, weight })) } };
  return { '@type': TypeUrl.TcpProxy, stat_prefix: statPrefix, ...target, ...extra };
}

/** A filter chain with one terminal filter (tcp_proxy or http_connection_manager by its @type). */
export function filterChain(typedConfig: Obj, match?: Obj, name?: string): Obj {
  const isHttp = typedConfig['@type'] === TypeUrl.HttpConnectionManager;
  return {
    ...(name !== undefined ? { name } : {}),
    ...(match !== undefined ? { filter_chain_match: match } : {}),
    filters: [{ name: isHttp ? 'envoy.filters.network.http_connection_manager' : 'envoy.filters.network.tcp_proxy', typed_config: typedConfig }],
  };
}

export type ChainsListenerOptions = {
  port?: number;
  listenerFilters?: Obj[];
  defaultChain?: Obj;
  extra?: Obj;
};

/** A listener on 127.0.0.1 with these filter chains. */
export function chainsListener(name: string, chains: Obj[], options: ChainsListenerOptions = {}): Obj {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: options.port ?? 0 } },
    traffic_direction: 'OUTBOUND',
    ...(options.listenerFilters ? { listener_filters: options.listenerFilters } : {}),
    filter_chains: chains,
    ...(options.defaultChain ? { default_filter_chain: options.defaultChain } : {}),
    ...options.extra,
  };
}
