// Envoy RBAC resources as hand-written config (the shapes Istio's AuthorizationPolicy translation
// produces): the HTTP filter, the network filter, policies, and a free port for destination_port rules.
import net from 'node:net';
import { once } from 'node:events';
import { TypeUrl } from '../../../src/xds/type-urls.ts';

type Obj = Record<string, unknown>;

export const httpRbacFilterName = 'envoy.filters.http.rbac';
export const networkRbacTypeUrl = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
export const rbacPerRouteTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

/** envoy.config.rbac.v3.RBAC. */
export function rbacRules(action: 'ALLOW' | 'DENY' | 'LOG', policies: Record<string, Obj>): Obj {
  return { action, policies };
}

/** A Policy: any permission and any principal. */
export function policy(permissions: Obj[], principals: Obj[] = [{ any: true }]): Obj {
  return { permissions, principals };
}

/** The HTTP RBAC filter as an http_filters entry. */
export function httpRbacFilter(config: Obj, name = httpRbacFilterName): Obj {
  return { name, typed_config: { '@type': TypeUrl.Rbac, ...config } };
}

/** The network RBAC filter as a filter chain's filters entry. */
export function networkRbacFilter(config: Obj): Obj {
  return { name: 'envoy.filters.network.rbac', typed_config: { '@type': networkRbacTypeUrl, ...config } };
}

/** A route's typed_per_filter_config entry with an RBACPerRoute (no `rbac`: RBAC off on the route). */
export function perRouteRbac(rbac?: Obj): Obj {
  return { typed_per_filter_config: { [httpRbacFilterName]: { '@type': rbacPerRouteTypeUrl, ...(rbac ? { rbac } : {}) } } };
}

/** A metadata matcher on the dynamic metadata of `filter` at `key`. */
export function metadataRule(filter: string, key: string, value: Obj, invert = false): Obj {
  return { metadata: { filter, path: [{ key }], value, ...(invert ? { invert } : {}) } };
}

/** A port nothing listens on right now (bound to 0, then released) for a listener that must know its port in advance. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
