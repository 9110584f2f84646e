// Listener (LDS) → ListenerSpec: its address and its one filter chain's terminal network filter.
import { TypeUrl } from '../../xds/type-urls.ts';
import { compileHttpConnectionManager, type HttpConnectionManagerSpec } from '../http/connection-manager-config.ts';
import type { RouteCompileContext } from '../http/routing/route-config.ts';
import { compileTcpProxy, type TcpProxySpec } from '../tcp/tcp-proxy-config.ts';
import {
  FieldPath, boolWrapper, canonicalJson, checkFields, message, optionalMessage, repeated, requiredString, socketAddress,
  string, typeUrlOf,
} from '../upstream/envoy-config.ts';

export type NetworkFilterSpec =
  | { kind: 'http'; spec: HttpConnectionManagerSpec }
  | { kind: 'tcp'; spec: TcpProxySpec };

export type ListenerSpec = {
  name: string;
  address: string;
  /** 0: an ephemeral port (tests); Envoy itself requires a concrete port. */
  port: number;
  filter: NetworkFilterSpec;
  fingerprint: string;
};

const listenerFields = new Set([
  'name', 'address', 'filter_chains', 'bind_to_port', 'listener_filters',
  // Informational, or tuning without effect here:
  'traffic_direction', 'metadata', 'stat_prefix', 'per_connection_buffer_limit_bytes', 'listener_filters_timeout',
  'continue_on_listener_filters_timeout', 'drain_type',
]);
const filterChainFields = new Set(['filters', 'name', 'metadata', 'filter_chain_match']);
const networkFilterFields = new Set(['name', 'typed_config']);
// With a single filter chain and no filter_chain_match, these inspectors change nothing.
const harmlessListenerFilters = new Set(['envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector']);

export function compileListener(value: unknown, context: RouteCompileContext): ListenerSpec {
  const probe = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).name : undefined;
  const root = new FieldPath(`Listener ${typeof probe === 'string' && probe !== '' ? probe : '(unnamed)'}`);
  const l = message(root, value);
  const name = requiredString(root.field('name'), l.name);
  checkFields(root, l, listenerFields);
  if (boolWrapper(root.field('bind_to_port'), l.bind_to_port) === false) root.field('bind_to_port').reject('false is not supported');
  repeated(root.field('listener_filters'), l.listener_filters).forEach((f, i) => {
    const fp = root.field('listener_filters').item(i);
    const filter = message(fp, f);
    const filterName = string(fp.field('name'), filter.name) ?? '';
    if (!harmlessListenerFilters.has(filterName)) fp.reject(`(${filterName || 'unnamed'}) is not supported`);
  });
  const { address, port } = socketAddress(root.field('address'), l.address, true);

  const chains = repeated(root.field('filter_chains'), l.filter_chains);
  if (chains.length !== 1) root.field('filter_chains').reject(`has ${chains.length} filter chains; exactly one is supported`);
  const cp = root.field('filter_chains').item(0);
  const chain = message(cp, chains[0]);
  checkFields(cp, chain, filterChainFields);
  const match = optionalMessage(cp.field('filter_chain_match'), chain.filter_chain_match);
  if (match && Object.keys(match).length > 0) cp.field('filter_chain_match').reject('is not supported');
  const filters = repeated(cp.field('filters'), chain.filters);
  if (filters.length !== 1) cp.field('filters').reject(`has ${filters.length} filters; exactly one terminal filter (http_connection_manager or tcp_proxy) is supported`);
  const fp = cp.field('filters').item(0);
  const filter = message(fp, filters[0]);
  checkFields(fp, filter, networkFilterFields);
  const tp = fp.field('typed_config');
  const typed = optionalMessage(tp, filter.typed_config);
  if (!typed) throw tp.error('is required');
  const typeUrl = typeUrlOf(typed);
  let spec: NetworkFilterSpec;
  if (typeUrl === TypeUrl.HttpConnectionManager) spec = { kind: 'http', spec: compileHttpConnectionManager(tp, typed, context) };
  else if (typeUrl === TypeUrl.TcpProxy) spec = { kind: 'tcp', spec: compileTcpProxy(tp, typed) };
  else throw tp.error(`${typeUrl || '(no type)'} is not supported (http_connection_manager and tcp_proxy are)`);

  return { name, address, port, filter: spec, fingerprint: canonicalJson(l) };
}
