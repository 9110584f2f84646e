// Hand-written Envoy v3 CORS config, as Istio emits it: an empty Cors in http_filters (before the
// router) and a CorsPolicy per route / virtual host / route configuration in typed_per_filter_config.
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import type { Reply } from './client.ts';

type Obj = Record<string, unknown>;

export const corsFilterName = 'envoy.filters.http.cors';
export const corsPolicyTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

/** The CORS filter in http_filters: an empty envoy.extensions.filters.http.cors.v3.Cors. */
export function corsFilter(config: Obj = {}): Obj {
  return { name: corsFilterName, typed_config: { '@type': TypeUrl.Cors, ...config } };
}

/** typed_per_filter_config carrying a CorsPolicy for the CORS filter (spread into a route or virtual host). */
export function perRouteCors(policy: Obj): Obj {
  return { typed_per_filter_config: { [corsFilterName]: { '@type': corsPolicyTypeUrl, ...policy } } };
}

/** Headers that node:http adds itself (not the proxy's choice). */
const transport = new Set(['date', 'connection', 'keep-alive']);

/** A reply's headers as [name, value] pairs, in order, without node:http's transport headers. */
export function proxyHeaders(reply: Reply): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    const name = reply.rawHeaders[i].toLowerCase();
    if (!transport.has(name)) out.push([name, reply.rawHeaders[i + 1]]);
  }
  return out;
}

/** The access-control-* response headers of a reply, as an object. */
export function corsHeaders(reply: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of proxyHeaders(reply)) if (name.startsWith('access-control-')) out[name] = value;
  return out;
}
