// xds.type.v3.TypedStruct carries an extension's config as a Struct, naming the config's type in its
// own type_url (Istio's `istio.stats` filter: type.googleapis.com/stats.PluginConfig). Filters are
// looked up by that inner type, so an extension not known here is "not supported" by its own name,
// and skipped when the filter is is_optional.
import { typeUrlOf, type Message } from '../../upstream/envoy-config.ts';

export const typedStructTypeUrl = 'type.googleapis.com/xds.type.v3.TypedStruct';

/** The type a filter's typed_config is registered under: a TypedStruct's inner type_url, else its own. */
export function filterTypeUrl(typed: Message): string {
  const outer = typeUrlOf(typed);
  if (outer !== typedStructTypeUrl) return outer;
  return typeof typed.type_url === 'string' && typed.type_url !== '' ? typed.type_url : outer;
}
