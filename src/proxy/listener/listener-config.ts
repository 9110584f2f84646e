// Listener (LDS) → ListenerSpec: its address, its listener filters (inspectors), its filter chains
// (each a filter_chain_match, an optional TLS transport socket, network filters such as RBAC and one
// terminal network filter) and its default_filter_chain.
import { fromStruct, type Struct } from '../../xds/struct.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import { filterTypeUrl } from '../http/filters/typed-struct.ts';
import { compileHttpConnectionManager, type HttpConnectionManagerSpec } from '../http/connection-manager-config.ts';
import type { RouteCompileContext } from '../http/routing/route-config.ts';
import { compileTcpProxy, type TcpProxySpec } from '../tcp/tcp-proxy-config.ts';
import {
  FieldPath, boolWrapper, canonicalJson, checkFields, isPresent, message, optionalMessage, repeated, requiredString, socketAddress,
  string, typeUrlOf,
} from '../upstream/envoy-config.ts';
import { compileDownstreamTlsContext, type DownstreamTlsSpec } from '../tls/downstream-tls-context.ts';
import { DownstreamTlsContextType, tlsContextOf } from '../tls/transport-socket.ts';
import { anyMatch, checkDistinctMatches, compileFilterChainMatch, type FilterChainMatchSpec } from './filter-chain-match.ts';
import { compileListenerFilters, type ListenerFiltersSpec } from './listener-filter-config.ts';
import { compileNetworkReadFilter, readFilterTypeUrls, type NetworkReadFilterSpec } from './network-filters.ts';

export type NetworkFilterSpec =
  | { kind: 'http'; spec: HttpConnectionManagerSpec }
  | { kind: 'tcp'; spec: TcpProxySpec };

export type FilterChainSpec = {
  /** Where it sits in the listener (`filter_chains[1] (tls-to-a)`, `default_filter_chain`), for messages. */
  label: string;
  match: FilterChainMatchSpec;
  /** Network filters before the terminal one (envoy.filters.network.rbac), in order; they see each connection after TLS termination. */
  readFilters: NetworkReadFilterSpec[];
  filter: NetworkFilterSpec;
  /** transport_socket envoy.transport_sockets.tls: TLS is terminated before the network filter; null: plaintext. */
  tls: DownstreamTlsSpec | null;
  /** Canonical text of the chain: an unchanged chain keeps its connections when its listener is updated. */
  fingerprint: string;
};

export type ListenerSpec = {
  name: string;
  address: string;
  /** 0: an ephemeral port (tests); Envoy itself requires a concrete port. */
  port: number;
  listenerFilters: ListenerFiltersSpec;
  filterChains: FilterChainSpec[];
  /** Takes the connections no filter chain matches; null: they are closed. */
  defaultFilterChain: FilterChainSpec | null;
  /** traffic_direction (INBOUND, OUTBOUND; '' unspecified): which side of an exchange telemetry reports. */
  trafficDirection: string;
  /** metadata.filter_metadata.istio.services[0].host: the service an inbound listener serves ('' unknown). */
  serviceHost: string;
  fingerprint: string;
};

const listenerFields = new Set([
  'name', 'address', 'filter_chains', 'default_filter_chain', 'bind_to_port', 'listener_filters',
  'listener_filters_timeout', 'continue_on_listener_filters_timeout',
  // Informational, or tuning without effect here:
  'traffic_direction', 'metadata', 'stat_prefix', 'per_connection_buffer_limit_bytes', 'drain_type',
]);
const filterChainFields = new Set(['filters', 'name', 'metadata', 'filter_chain_match', 'transport_socket', 'transport_socket_connect_timeout']);
const networkFilterFields = new Set(['name', 'typed_config']);

export function compileListener(value: unknown, context: RouteCompileContext): ListenerSpec {
  const probe = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).name : undefined;
  const root = new FieldPath(`Listener ${typeof probe === 'string' && probe !== '' ? probe : '(unnamed)'}`);
  const l = message(root, value);
  const name = requiredString(root.field('name'), l.name);
  checkFields(root, l, listenerFields);
  if (boolWrapper(root.field('bind_to_port'), l.bind_to_port) === false) root.field('bind_to_port').reject('false is not supported');
  const listenerFilters = compileListenerFilters(root, l);
  const { address, port } = socketAddress(root.field('address'), l.address, true);

  const filterChains = repeated(root.field('filter_chains'), l.filter_chains).map((chain, i) => {
    const at = root.field('filter_chains').item(i);
    return { at, spec: compileFilterChain(at, chain, context, false) };
  });
  checkDistinctMatches(filterChains.map(({ at, spec }) => ({ at, label: spec.label, match: spec.match })));
  const defaultFilterChain = optionalMessage(root.field('default_filter_chain'), l.default_filter_chain)
    ? compileFilterChain(root.field('default_filter_chain'), l.default_filter_chain, context, true)
    : null;
  if (filterChains.length === 0 && defaultFilterChain === null) root.field('filter_chains').reject('is empty and there is no default_filter_chain');

  return {
    name, address, port, listenerFilters, filterChains: filterChains.map((c) => c.spec), defaultFilterChain,
    trafficDirection: trafficDirection(root.field('traffic_direction'), l.traffic_direction),
    serviceHost: servedHost(l.metadata),
    fingerprint: canonicalJson(l),
  };
}

function compileFilterChain(at: FieldPath, value: unknown, context: RouteCompileContext, isDefault: boolean): FilterChainSpec {
  const chain = message(at, value);
  checkFields(at, chain, filterChainFields);
  const chainName = string(at.field('name'), chain.name) ?? '';
  let match = anyMatch;
  if (isDefault) {
    const m = optionalMessage(at.field('filter_chain_match'), chain.filter_chain_match);
    if (m && Object.keys(m).length > 0) at.field('filter_chain_match').reject('has no effect on the default filter chain');
  } else {
    match = compileFilterChainMatch(at.field('filter_chain_match'), chain.filter_chain_match);
  }
  const filters = repeated(at.field('filters'), chain.filters);
  if (filters.length === 0) at.field('filters').reject('has 0 filters; a terminal filter (http_connection_manager or tcp_proxy) is required');
  // Non-terminal filters (network-filters.ts) first, then exactly one terminal filter, last.
  const readFilters: NetworkReadFilterSpec[] = [];
  let spec: NetworkFilterSpec | null = null;
  filters.forEach((entry, i) => {
    const fp = at.field('filters').item(i);
    const filter = message(fp, entry);
    checkFields(fp, filter, networkFilterFields);
    const tp = fp.field('typed_config');
    const typed = optionalMessage(tp, filter.typed_config);
    if (!typed) throw tp.error('is required');
    const typeUrl = typeUrlOf(typed);
    const last = i === filters.length - 1;
    if (typeUrl === TypeUrl.HttpConnectionManager || typeUrl === TypeUrl.TcpProxy) {
      if (!last) {
        at.field('filters').reject(`has ${filters.length} filters; the terminal filter (http_connection_manager or tcp_proxy) must be the only one and the last, after network filters such as ${readFilterTypeUrls.join(', ')}`);
      }
      spec = typeUrl === TypeUrl.HttpConnectionManager
        ? { kind: 'http', spec: compileHttpConnectionManager(tp, typed, context) }
        : { kind: 'tcp', spec: compileTcpProxy(tp, typed) };
      return;
    }
    const read = compileNetworkReadFilter(tp, filterTypeUrl(typed), typed);
    if (read === null) throw tp.error(`${typeUrl || '(no type)'} is not supported (http_connection_manager, tcp_proxy and, before them, ${readFilterTypeUrls.join(', ')} are)`);
    if (last) tp.reject(`${typeUrl} is not a terminal filter; the chain must end with http_connection_manager or tcp_proxy`);
    readFilters.push(read);
  });
  const label = chainName === '' ? at.path : `${at.path} (${chainName})`;
  const tlsContext = tlsContextOf(at.field('transport_socket'), chain.transport_socket, DownstreamTlsContextType);
  if (tlsContext === null && isPresent(chain.transport_socket_connect_timeout)) {
    at.field('transport_socket_connect_timeout').reject('applies only with a TLS transport_socket');
  }
  const tls = tlsContext === null ? null : compileDownstreamTlsContext(
    at.field('transport_socket').field('typed_config'), tlsContext,
    chain.transport_socket_connect_timeout, at.field('transport_socket_connect_timeout'), context.secrets ?? null,
  );
  return { label, match, readFilters, filter: spec!, tls, fingerprint: `${isDefault ? 'default ' : ''}${canonicalJson(chain)}` };
}

function trafficDirection(at: FieldPath, value: unknown): string {
  const v = string(at, value) ?? 'UNSPECIFIED';
  if (v !== 'UNSPECIFIED' && v !== 'INBOUND' && v !== 'OUTBOUND') at.reject(`${v} is not one of UNSPECIFIED, INBOUND, OUTBOUND`);
  return v === 'UNSPECIFIED' ? '' : v;
}

/** The first service host in Istio's listener metadata (Struct or plain JSON); '' when absent. */
function servedHost(metadata: unknown): string {
  const fm = (metadata as { filter_metadata?: Record<string, unknown> } | undefined)?.filter_metadata?.istio;
  if (fm === undefined || fm === null || typeof fm !== 'object') return '';
  const istio = 'fields' in fm ? fromStruct(fm as Struct) : fm as Record<string, unknown>;
  const services = (istio as { services?: unknown }).services;
  const host = Array.isArray(services) ? (services[0] as { host?: unknown } | undefined)?.host : undefined;
  return typeof host === 'string' ? host : '';
}
