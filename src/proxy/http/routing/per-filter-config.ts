// typed_per_filter_config of a route configuration, virtual host or route → the compiled per-route
// configs by filter name. Each entry is an Any of a filter's own config type (or a
// envoy.config.route.v3.FilterConfig wrapping one), compiled by the per-route compiler registered for
// that type (filters/registry.ts). An entry whose type no filter registered is rejected, naming where it
// sits, unless it is a FilterConfig with is_optional. Entries merge downwards: a virtual host's entry
// for a filter name replaces the route configuration's, a route's replaces its virtual host's (Envoy's
// most specific per-filter config; the fault filter does not merge field by field).
//
// A route configuration is compiled without knowing which connection managers use it (RDS), so an entry
// for a filter name that no connection manager runs is kept and simply never read, as Envoy does.
import { httpFilterPerRouteCompiler } from '../filters/registry.ts';
import { FieldPath, bool, checkFields, message, optionalMessage, typeUrlOf } from '../../upstream/envoy-config.ts';

export type PerFilterConfig = ReadonlyMap<string, object> | null;

export const filterConfigTypeUrl = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

const filterConfigFields = new Set(['@type', 'type_url', 'config', 'is_optional', 'disabled']);

/** `inherited` is the enclosing level's result; `where` names the route or virtual host for errors. */
export function compilePerFilterConfig(at: FieldPath, value: unknown, inherited: PerFilterConfig, where: string): PerFilterConfig {
  const entries = optionalMessage(at, value);
  if (entries === undefined) return inherited;
  const keys = Object.keys(entries);
  if (keys.length === 0) return inherited;
  const merged = new Map<string, object>(inherited ?? []);
  for (const name of keys) {
    let ep = new FieldPath(at.resource, `${at.path}[${name}]`);
    let any = message(ep, entries[name]);
    let typeUrl = typeUrlOf(any);
    let optional = false;
    if (typeUrl === filterConfigTypeUrl) {
      checkFields(ep, any, filterConfigFields);
      optional = bool(ep.field('is_optional'), any.is_optional) === true;
      if (bool(ep.field('disabled'), any.disabled) === true) ep.field('disabled').reject(`(${where}) true is not supported`);
      const inner = optionalMessage(ep.field('config'), any.config);
      if (inner === undefined) {
        if (optional) continue;
        throw ep.field('config').error(`(${where}) is required`);
      }
      ep = ep.field('config');
      any = inner;
      typeUrl = typeUrlOf(inner);
    }
    const compile = typeUrl === '' ? undefined : httpFilterPerRouteCompiler(typeUrl);
    if (compile === undefined) {
      if (optional) continue;
      throw ep.error(`(${where}): filter config type ${typeUrl || '(none)'} is not supported for filter ${name}`);
    }
    merged.set(name, compile(any, ep));
  }
  return merged.size === 0 ? null : merged;
}
