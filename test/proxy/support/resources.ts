// Hand-written Envoy v3 resources, shaped as the xDS client hands them to the data plane (protobufjs
// with keepCase: snake_case fields, enums as strings, Durations with string seconds, wrappers as
// {value}, Anys unpacked with '@type').
import { TypeUrl } from '../../../src/xds/type-urls.ts';

type Obj = Record<string, unknown>;

export function edsCluster(name: string, extra: Obj = {}): Obj {
  return {
    name,
    type: 'EDS',
    connect_timeout: { seconds: '1', nanos: 0 },
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    ...extra,
  };
}

export type EndpointInput = number | { port: number; address?: string; weight?: number; health?: string };

export function lbEndpoint(e: EndpointInput): Obj {
  const { port, address = '127.0.0.1', weight, health } = typeof e === 'number' ? { port: e } : e;
  return {
    endpoint: { address: { socket_address: { address, port_value: port } } },
    ...(health ? { health_status: health } : {}),
    ...(weight !== undefined ? { load_balancing_weight: { value: weight } } : {}),
  };
}

export function assignment(clusterName: string, endpoints: EndpointInput[]): Obj {
  return {
    cluster_name: clusterName,
    endpoints: [{ locality: { region: '', zone: '' }, load_balancing_weight: { value: 1 }, lb_endpoints: endpoints.map(lbEndpoint) }],
  };
}

export function staticCluster(name: string, endpoints: EndpointInput[], extra: Obj = {}): Obj {
  return { name, type: 'STATIC', connect_timeout: { seconds: '1' }, load_assignment: assignment(name, endpoints), ...extra };
}

export function routeTo(cluster: string, extra: Obj = {}): Obj {
  return { cluster, ...extra };
}

export function route(match: Obj, action: Obj, name = ''): Obj {
  return { ...(name ? { name } : {}), match, route: action };
}

export function virtualHost(name: string, domains: string[], routes: Obj[]): Obj {
  return { name, domains, routes };
}

export function routeConfig(name: string, virtualHosts: Obj[], extra: Obj = {}): Obj {
  return { name, virtual_hosts: virtualHosts, ...extra };
}

export const routerFilter = { name: 'envoy.filters.http.router', typed_config: { '@type': TypeUrl.Router } };

export function httpConnectionManager(options: { rds?: string; routeConfig?: Obj; statPrefix?: string; httpFilters?: Obj[]; extra?: Obj }): Obj {
  return {
    '@type': TypeUrl.HttpConnectionManager,
    stat_prefix: options.statPrefix ?? 'test',
    ...(options.rds !== undefined ? { rds: { route_config_name: options.rds, config_source: { ads: {}, resource_api_version: 'V3' } } } : {}),
    ...(options.routeConfig !== undefined ? { route_config: options.routeConfig } : {}),
    http_filters: options.httpFilters ?? [routerFilter],
    ...options.extra,
  };
}

export function listener(name: string, typedConfig: Obj, options: { port?: number; address?: string; extra?: Obj } = {}): Obj {
  const isHttp = typedConfig['@type'] === TypeUrl.HttpConnectionManager;
  return {
    name,
    address: { socket_address: { address: options.address ?? '127.0.0.1', port_value: options.port ?? 0 } },
    traffic_direction: 'OUTBOUND',
    filter_chains: [{
      filters: [{ name: isHttp ? 'envoy.filters.network.http_connection_manager' : 'envoy.filters.network.tcp_proxy', typed_config: typedConfig }],
    }],
    ...options.extra,
  };
}

export function httpListener(name: string, options: { rds?: string; routeConfig?: Obj; statPrefix?: string; port?: number; hcm?: Obj } = {}): Obj {
  return listener(name, httpConnectionManager({ rds: options.rds, routeConfig: options.routeConfig, statPrefix: options.statPrefix ?? name, extra: options.hcm }), { port: options.port });
}

export function tcpListener(name: string, cluster: string, options: { port?: number } = {}): Obj {
  return listener(name, { '@type': TypeUrl.TcpProxy, stat_prefix: name, cluster }, options);
}

/** The fault filter as Istio puts it in http_filters (before the router): empty unless `config` is given. */
export function faultFilter(config: Obj = {}): Obj {
  return { name: 'envoy.filters.http.fault', typed_config: { '@type': TypeUrl.Fault, ...config } };
}

/** A route's (or virtual host's) typed_per_filter_config carrying an HTTPFault for the fault filter. */
export function perRouteFault(config: Obj): Obj {
  return { typed_per_filter_config: { 'envoy.filters.http.fault': { '@type': TypeUrl.Fault, ...config } } };
}
